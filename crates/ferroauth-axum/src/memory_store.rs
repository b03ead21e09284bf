//! An in-memory session store that forgets expired sessions.
//!
//! tower-sessions' own `MemoryStore` keeps every session it ever saw, so a server that runs
//! for weeks (or is sent a flood of cookie-less `/login` requests) grows without end.
//! [`PurgingMemoryStore`] refuses expired records on load, sweeps them out every
//! [`PurgingMemoryStore::sweep_period`] as a side effect of writes (no background task
//! needed), and implements [`ExpiredDeletion`] for callers that prefer a periodic task.
//!
//! It is for one app instance: instances behind a load balancer must share a store (a
//! database or Redis).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// The default interval between sweeps of expired sessions.
pub const DEFAULT_SWEEP_PERIOD: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Inner {
    records: HashMap<Id, Record>,
    last_sweep: Instant,
}

/// An in-memory [`SessionStore`] with expiry: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct PurgingMemoryStore {
    inner: Arc<Mutex<Inner>>,
    sweep_period: Duration,
}

impl Default for PurgingMemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl PurgingMemoryStore {
    /// An empty store that sweeps every [`DEFAULT_SWEEP_PERIOD`].
    pub fn new() -> Self {
        Self::with_sweep_period(DEFAULT_SWEEP_PERIOD)
    }

    /// An empty store that sweeps expired sessions at most once per `period`.
    pub fn with_sweep_period(period: Duration) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                records: HashMap::new(),
                last_sweep: Instant::now(),
            })),
            sweep_period: period,
        }
    }

    /// How often expired sessions are swept out.
    pub fn sweep_period(&self) -> Duration {
        self.sweep_period
    }

    /// Number of sessions held, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The largest session's data, in bytes of JSON: a way to check that no session grows
    /// without bound.
    pub fn largest_session_bytes(&self) -> usize {
        self.lock()
            .records
            .values()
            .map(|r| serde_json::to_vec(&r.data).map_or(0, |v| v.len()))
            .max()
            .unwrap_or(0)
    }

    /// Removes every expired session now; returns how many were removed.
    pub fn sweep(&self) -> usize {
        let mut inner = self.lock();
        Self::sweep_locked(&mut inner)
    }

    fn sweep_locked(inner: &mut Inner) -> usize {
        let now = OffsetDateTime::now_utc();
        let before = inner.records.len();
        inner.records.retain(|_, r| r.expiry_date > now);
        inner.last_sweep = Instant::now();
        before - inner.records.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lock, after a sweep when one is due.
    fn write(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        if inner.last_sweep.elapsed() >= self.sweep_period {
            Self::sweep_locked(&mut inner);
        }
        inner
    }
}

#[async_trait]
impl SessionStore for PurgingMemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut inner = self.write();
        while inner.records.contains_key(&record.id) {
            record.id = Id::default();
        }
        inner.records.insert(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.write().records.insert(record.id, record.clone());
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let mut inner = self.lock();
        match inner.records.get(session_id) {
            Some(r) if r.expiry_date > OffsetDateTime::now_utc() => Ok(Some(r.clone())),
            Some(_) => {
                inner.records.remove(session_id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.lock().records.remove(session_id);
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for PurgingMemoryStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.sweep();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("k".to_owned(), serde_json::json!("v"))]),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn round_trip_and_delete() {
        let store = PurgingMemoryStore::new();
        let mut r = record(time::Duration::hours(1));
        store.create(&mut r).await.unwrap();
        assert_eq!(store.load(&r.id).await.unwrap().unwrap().data, r.data);
        store.delete(&r.id).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_none());
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn expired_sessions_are_not_loaded_and_are_swept() {
        let store = PurgingMemoryStore::with_sweep_period(Duration::ZERO);
        let mut old = record(time::Duration::seconds(-1));
        let mut old2 = record(time::Duration::seconds(-1));
        store.create(&mut old).await.unwrap();
        store.create(&mut old2).await.unwrap();
        assert!(store.load(&old.id).await.unwrap().is_none());
        assert_eq!(store.len(), 1, "a refused load removes the record");
        let mut fresh = record(time::Duration::hours(1));
        store.create(&mut fresh).await.unwrap();
        assert_eq!(store.len(), 1, "writes sweep expired records");
        store.delete_expired().await.unwrap();
        assert_eq!(store.len(), 1);
    }

    #[tokio::test]
    async fn no_sweep_before_the_period() {
        let store = PurgingMemoryStore::with_sweep_period(Duration::from_secs(3600));
        let mut old = record(time::Duration::seconds(-1));
        store.create(&mut old).await.unwrap();
        let mut fresh = record(time::Duration::hours(1));
        store.create(&mut fresh).await.unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(store.sweep(), 1);
    }
}
