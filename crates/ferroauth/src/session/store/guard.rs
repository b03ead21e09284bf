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
//! - [`Watched::answers_unavailable`] decides whether the response becomes the 503
//!   ([`crate::web::Failure::store_unavailable`]).
//!
//! Errors a handler itself sees (a failed load) are [`crate::Error::Session`] and answer
//! 503 through the adapters' error type already.
//!
//! # A renewal's deletion, sent with the new id's creation
//!
//! Renewing a session's id (after a login, against fixation) deletes the old id and
//! creates the new one: two store calls, and on Redis two round trips, one in the handler
//! and one in the session layer's save. A web adapter marks a renewal with [`renewing`];
//! a store that can send both together (the Redis store) then keeps the old id
//! ([`defer_deletion`]) and deletes it in the same pipeline as it creates the new one
//! ([`take_deferred_deletion`]). The deletion is never lost: if the request ends without
//! a creation (session layers save nothing for a server error), [`watch`] deletes the old
//! id before the answer leaves, and a failure of that deletion makes the answer the 503
//! whatever its status, as a failed renewal did when the handler deleted it.

use std::cell::{Cell, RefCell};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

use super::STORE_TIMEOUT;

tokio::task_local! {
    /// What the session store did during the current request. A task-local, not shared
    /// state: the store runs on the request's own task.
    static REQUEST: RequestStore;
}

/// The store's part of one request ([`watch`]).
#[derive(Default)]
struct RequestStore {
    failed: Cell<bool>,
    /// A deletion that failed where the answer cannot show it otherwise: the answer
    /// becomes the 503 whatever its status.
    deletion_failed: Cell<bool>,
    renewing: Cell<bool>,
    deferred: RefCell<Option<(Id, Arc<dyn SessionStore>)>>,
    /// The session this request loaded, and when the store keeps it until.
    loaded: Cell<Option<(Id, OffsetDateTime)>>,
}

/// What [`watch`] saw of the session store during a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Watched {
    failed: bool,
    deletion_failed: bool,
}

impl Watched {
    /// Whether a store call failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Whether a response with `status` is to be replaced by the 503
    /// `session_unavailable`: any server error of a request whose store failed is the
    /// store's, and so is every answer of a request whose old session id, after a
    /// renewal, could not be deleted.
    pub fn answers_unavailable(&self, status: u16) -> bool {
        self.deletion_failed || answers_unavailable(status, self.failed)
    }
}

/// Runs `request` (a web framework's handling of one request, session layer included) and
/// tells whether a session store call failed during it. A renewal's deletion still
/// deferred when the request ends is done here (see the [module docs](self)).
pub async fn watch<F: Future>(request: F) -> (F::Output, Watched) {
    REQUEST
        .scope(RequestStore::default(), async move {
            let output = request.await;
            let deferred = REQUEST.with(|r| {
                // So that the store's deletion below is sent, not kept again.
                r.renewing.set(false);
                r.deferred.borrow_mut().take()
            });
            if let Some((id, store)) = deferred
                && note_failure(store.delete(&id).await).is_err()
            {
                REQUEST.with(|r| r.deletion_failed.set(true));
            }
            let watched = REQUEST.with(|r| Watched {
                failed: r.failed.get(),
                deletion_failed: r.deletion_failed.get(),
            });
            (output, watched)
        })
        .await
}

/// Whether a response with `status`, of a request during which the store failed
/// (`store_failed`), is to be replaced by the 503 `session_unavailable`: any server error
/// then is the store's. [`Watched::answers_unavailable`], which the adapters call, is this
/// and a failed renewal's deletion.
fn answers_unavailable(status: u16, store_failed: bool) -> bool {
    store_failed && (500..600).contains(&status)
}

/// `result` of a store call, its failure logged and noted for [`watch`].
pub fn note_failure<T, E: Display>(result: Result<T, E>) -> Result<T, E> {
    if let Err(e) = &result {
        tracing::warn!(error = %e, "session store failed");
        let _ = REQUEST.try_with(|r| r.failed.set(true));
    }
    result
}

/// Marks the current request as renewing its session id: the next deletion may be sent
/// with the creation that follows it (see the [module docs](self)). Outside [`watch`],
/// nothing.
pub fn renewing() {
    let _ = REQUEST.try_with(|r| r.renewing.set(true));
}

/// For a store's `delete` of `id`: keeps it, to be sent with the next creation, when the
/// request is renewing its id; `false` (delete now) otherwise. `store` deletes it if the
/// request ends first.
pub fn defer_deletion(id: Id, store: impl FnOnce() -> Arc<dyn SessionStore>) -> bool {
    REQUEST
        .try_with(|r| {
            if !r.renewing.replace(false) {
                return false;
            }
            *r.deferred.borrow_mut() = Some((id, store()));
            true
        })
        .unwrap_or(false)
}

/// For a store's `load`: notes the session the request loaded and its expiry in the
/// store, for [`needs_extension`].
pub fn note_loaded(record: &Record) {
    let _ = REQUEST.try_with(|r| r.loaded.set(Some((record.id, record.expiry_date))));
}

/// Whether a request that changed nothing in the session `id` must still write it to keep
/// it alive for `inactivity` more: only when the store's expiry, noted at its load
/// ([`note_loaded`]), is more than [`extension_slack`] short of that. An active session so
/// costs one write per slack, not one per request, and an unused one still ends between
/// `inactivity` minus the slack and `inactivity` after its last use. Not noted (outside
/// [`watch`], another store): `true`.
pub fn needs_extension(id: &Id, inactivity: Duration) -> bool {
    let noted = REQUEST.try_with(|r| r.loaded.get()).ok().flatten();
    match noted {
        Some((loaded, expiry)) if loaded == *id => has_slipped(expiry, inactivity),
        _ => true,
    }
}

/// The session this request loaded and its expiry in the store ([`note_loaded`]), once:
/// for an adapter that checks at its first read ([`has_slipped`]) and not again.
pub fn take_loaded() -> Option<(Id, OffsetDateTime)> {
    REQUEST.try_with(|r| r.loaded.take()).ok().flatten()
}

/// Whether a session kept until `expiry` must be written again to live `inactivity`
/// more (see [`needs_extension`]).
pub fn has_slipped(expiry: OffsetDateTime, inactivity: Duration) -> bool {
    expiry < OffsetDateTime::now_utc() + inactivity - extension_slack(inactivity)
}

/// How much of its inactivity a session may lose before a request that only reads it
/// writes it again: an eighth of it, at most five minutes.
pub fn extension_slack(inactivity: Duration) -> Duration {
    Duration::min(inactivity / 8_i32, Duration::minutes(5))
}

/// For a store's `create`: the old id a renewal left to delete with it, if any.
pub fn take_deferred_deletion() -> Option<Id> {
    REQUEST
        .try_with(|r| r.deferred.borrow_mut().take().map(|(id, _)| id))
        .ok()
        .flatten()
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
        let loaded = note_failure(self.0.load(session_id).await)?;
        if let Some(record) = &loaded {
            note_loaded(record);
        }
        Ok(loaded)
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
        let (_, watched) = watch(async { note_failure::<(), _>(Err("down")) }).await;
        assert!(watched.failed());
        let (_, watched) = watch(async { note_failure::<_, &str>(Ok(())) }).await;
        assert!(!watched.failed(), "a fresh flag per request");
        // Outside a watched request a failure is only logged.
        assert!(note_failure::<(), _>(Err("down")).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_store_times_out_as_a_failure() {
        let (result, watched) =
            watch(bounded(std::future::pending::<Result<(), String>>(), |m| m)).await;
        assert!(result.unwrap_err().contains("did not answer"));
        assert!(watched.failed());
    }

    /// A store whose deletions are counted, or fail.
    #[derive(Debug, Default)]
    struct Deletions {
        deleted: std::sync::Mutex<Vec<Id>>,
        fail: bool,
    }

    #[async_trait]
    impl SessionStore for Deletions {
        async fn save(&self, _: &Record) -> session_store::Result<()> {
            Ok(())
        }
        async fn load(&self, _: &Id) -> session_store::Result<Option<Record>> {
            Ok(None)
        }
        async fn delete(&self, id: &Id) -> session_store::Result<()> {
            if self.fail {
                return Err(session_store::Error::Backend("down".into()));
            }
            self.deleted.lock().unwrap().push(*id);
            Ok(())
        }
    }

    #[tokio::test]
    async fn only_a_renewal_defers_and_its_creation_takes_the_old_id() {
        let store = Arc::new(Deletions::default());
        let shared = || Arc::clone(&store) as Arc<dyn SessionStore>;
        let old = Id::default();
        let ((), watched) = watch(async {
            assert!(!defer_deletion(old, shared), "not renewing: delete now");
            renewing();
            assert!(defer_deletion(old, shared));
            assert!(!defer_deletion(old, shared), "one deletion per renewal");
            assert_eq!(take_deferred_deletion(), Some(old));
            assert_eq!(take_deferred_deletion(), None);
        })
        .await;
        assert!(
            store.deleted.lock().unwrap().is_empty(),
            "the creation sent it"
        );
        assert!(!watched.answers_unavailable(200));
        // Outside a request nothing is deferred.
        renewing();
        assert!(!defer_deletion(old, shared));
    }

    #[tokio::test]
    async fn a_session_read_is_written_again_only_when_its_expiry_has_slipped() {
        let inactivity = Duration::hours(8);
        let record = |id, left: Duration| Record {
            id,
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + left,
        };
        let (id, other) = (Id::default(), Id::default());
        let ((), _) = watch(async {
            assert!(needs_extension(&id, inactivity), "not loaded here: extend");
            note_loaded(&record(id, inactivity - Duration::minutes(1)));
            assert!(!needs_extension(&id, inactivity), "a minute old: no write");
            assert!(needs_extension(&other, inactivity), "another session");
            note_loaded(&record(id, inactivity - Duration::minutes(6)));
            assert!(needs_extension(&id, inactivity), "past the slack: write");
            let (taken, expiry) = take_loaded().unwrap();
            assert_eq!(taken, id);
            assert!(has_slipped(expiry, inactivity));
            assert_eq!(take_loaded(), None, "once per load");
        })
        .await;
        assert_eq!(extension_slack(Duration::seconds(8)), Duration::seconds(1));
        assert!(
            needs_extension(&id, inactivity),
            "outside a request: extend"
        );
    }

    #[tokio::test]
    async fn a_deferred_deletion_left_at_the_end_is_done_and_its_failure_answers_503() {
        let store = Arc::new(Deletions::default());
        let old = Id::default();
        let ((), watched) = watch(async {
            renewing();
            assert!(defer_deletion(old, || Arc::clone(&store) as _));
        })
        .await;
        assert_eq!(*store.deleted.lock().unwrap(), [old]);
        assert!(!watched.failed());

        let failing = Arc::new(Deletions {
            fail: true,
            ..Deletions::default()
        });
        let ((), watched) = watch(async {
            renewing();
            assert!(defer_deletion(old, || Arc::clone(&failing) as _));
        })
        .await;
        assert!(watched.failed());
        assert!(
            watched.answers_unavailable(302),
            "a redirect must not hide it"
        );
    }

    #[test]
    fn only_server_errors_of_failed_requests_become_503() {
        assert!(answers_unavailable(500, true));
        assert!(!answers_unavailable(500, false));
        assert!(!answers_unavailable(200, true));
        assert!(!answers_unavailable(400, true));
    }
}
