//! The store-failure policy: a session store that fails, or hangs, answers 503
//! `session_unavailable`, not an empty 500 nor a browser left waiting.
//!
//! Session layers save a modified session after the handler has answered; when that save
//! fails (Redis down, database gone), tower-sessions replaces the response with an empty
//! 500 and actix-session fails the request. A login route should instead say that the
//! session store is unavailable, with 503, so that clients and load balancers retry. Three
//! framework-neutral pieces do that, which each web adapter wires into its middleware:
//!
//! - every store call goes through [`note_failure`] (or [`bounded`], which also gives up
//!   after [`STORE_TIMEOUT`]); [`GuardedStore`] does it for any tower-sessions-core
//!   [`SessionStore`];
//! - the adapter's middleware runs the request inside [`watch`], which tells whether a
//!   store call failed during it;
//! - [`answers_unavailable`] decides whether the response becomes the 503
//!   ([`crate::web::Failure::store_unavailable`]).
//!
//! Errors a handler itself sees (a failed load) are [`crate::Error::Session`] and answer
//! 503 through the adapters' error type already.

use std::cell::Cell;
use std::fmt::Display;
use std::future::Future;

use async_trait::async_trait;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

use super::STORE_TIMEOUT;

tokio::task_local! {
    /// Whether the session store failed during the current request. A task-local, not a
    /// shared flag: the store runs on the request's own task.
    static STORE_FAILED: Cell<bool>;
}

/// Runs `request` (a web framework's handling of one request, session layer included) and
/// tells whether a session store call failed during it.
pub async fn watch<F: Future>(request: F) -> (F::Output, bool) {
    STORE_FAILED
        .scope(Cell::new(false), async move {
            let output = request.await;
            (output, STORE_FAILED.with(Cell::get))
        })
        .await
}

/// Whether a response with `status`, of a request during which the store failed
/// (`store_failed`, from [`watch`]), is to be replaced by the 503 `session_unavailable`:
/// any server error then is the store's.
pub fn answers_unavailable(status: u16, store_failed: bool) -> bool {
    store_failed && (500..600).contains(&status)
}

/// `result` of a store call, its failure logged and noted for [`watch`].
pub fn note_failure<T, E: Display>(result: Result<T, E>) -> Result<T, E> {
    if let Err(e) = &result {
        tracing::warn!(error = %e, "session store failed");
        let _ = STORE_FAILED.try_with(|failed| failed.set(true));
    }
    result
}

/// A store call bounded by [`STORE_TIMEOUT`] (a store that hangs must not hold browsers,
/// and workers, with it), its failure noted: `timed_out` makes the error of a call that
/// took too long.
pub async fn bounded<T, E: Display>(
    call: impl Future<Output = Result<T, E>>,
    timed_out: impl FnOnce(String) -> E,
) -> Result<T, E> {
    let result = match tokio::time::timeout(STORE_TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(timed_out(format!(
            "the session store did not answer within {STORE_TIMEOUT:?}"
        ))),
    };
    note_failure(result)
}

/// A tower-sessions-core [`SessionStore`] whose failures are noted for [`watch`] (see the
/// [module docs](self)). No timeout: the in-memory store never waits, and the stores opened
/// by URL ([`super::SharedStore`]) are bounded already.
#[derive(Debug, Clone)]
pub struct GuardedStore<S>(S);

impl<S> GuardedStore<S> {
    /// Wraps `store`.
    pub fn new(store: S) -> Self {
        Self(store)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.0
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for GuardedStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        note_failure(self.0.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        note_failure(self.0.save(record).await)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        note_failure(self.0.load(session_id).await)
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        note_failure(self.0.delete(session_id).await)
    }
}

#[async_trait]
impl<S: ExpiredDeletion> ExpiredDeletion for GuardedStore<S> {
    async fn delete_expired(&self) -> session_store::Result<()> {
        note_failure(self.0.delete_expired().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failure_inside_the_request_is_seen_and_nothing_leaks_out() {
        let (_, failed) = watch(async { note_failure::<(), _>(Err("down")) }).await;
        assert!(failed);
        let (_, failed) = watch(async { note_failure::<_, &str>(Ok(())) }).await;
        assert!(!failed, "a fresh flag per request");
        // Outside a watched request a failure is only logged.
        assert!(note_failure::<(), _>(Err("down")).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_store_times_out_as_a_failure() {
        let (result, failed) =
            watch(bounded(std::future::pending::<Result<(), String>>(), |m| m)).await;
        assert!(result.unwrap_err().contains("did not answer"));
        assert!(failed);
    }

    #[test]
    fn only_server_errors_of_failed_requests_become_503() {
        assert!(answers_unavailable(500, true));
        assert!(!answers_unavailable(500, false));
        assert!(!answers_unavailable(200, true));
        assert!(!answers_unavailable(400, true));
    }
}
