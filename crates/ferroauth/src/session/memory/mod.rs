//! The in-memory session store of both web adapters: [`MemoryStore`], which forgets
//! expired sessions.
//!
//! tower-sessions' own `MemoryStore` keeps every session it ever saw, so a server that runs
//! for weeks (or is sent a flood of cookie-less `/login` requests) grows without end.
//! [`MemoryStore`] refuses expired records on load and removes expired sessions as a
//! side effect of writes (no background task needed); it also implements
//! [`ExpiredDeletion`] for callers that prefer a periodic task.
//!
//! It is a tower-sessions-core [`SessionStore`] (what `ferroauth-axum` uses), and offers
//! the same operations over any [`SessionData`] form, so that `ferroauth-actix` keeps
//! actix-session's entries (JSON texts) in it directly, with no conversion to a
//! tower-sessions `Record` and back on each request.
//!
//! It is for one app instance: instances behind a load balancer must share a store (a
//! database or Redis).
//!
//! # What is stored
//!
//! A session's data (tower-sessions' `HashMap<String, serde_json::Value>`, or
//! actix-session's `HashMap<String, String>`) is kept encoded
//! in one byte buffer, not as a `Value` tree: a tree costs a node allocation per string,
//! array and object (a JSON object's B-tree leaf is about 600 bytes even for three
//! entries), several times the size of the data, and millions of such small, long-lived
//! allocations fragment the heap. The encoding is a small tagged binary form of `Value`
//! (the private `codec` module): about the size of the data's JSON, faster to decode than
//! JSON (lengths up front, no escapes, no decimal numbers) and exact, floats included (serde_json
//! without its `float_roundtrip` feature may read a float back one unit in the last place
//! off). `load` decodes a fresh record, `create` and `save` encode one, both outside the
//! lock: the buffer is shared (`Arc<[u8]>`), so the lock is held only to look it up.
//!
//! # How expired sessions are purged
//!
//! Besides the sessions by id, the store keeps an expiry index: a binary min-heap of
//! (expiry, id) pairs. Every write first pops the pairs that are due and removes those
//! sessions, so the store holds what the sessions' lifetimes imply and no more, and each
//! write pays only for the few sessions that have just expired (O(log n) each), never a
//! scan of the whole store. A session saved with a new expiry gets a new pair; its old one
//! is left in the heap (cheaper than finding it) and skipped when popped, as is the pair of
//! a deleted session. So that those stale pairs cannot pile up, the heap is filtered
//! instead of grown when it is full and at least half stale: it stays within a few pairs
//! (32 bytes each) per session.
//!
//! # Sessions by owner
//!
//! The store is also its own [`SessionIndex`]: each session keeps the owner keys of its
//! [`INDEX_KEY`] entry, and the store maps each key to the ids of the sessions it owns.
//! Both change under the same lock as the session, and a session that goes (deleted,
//! expired, purged) leaves its keys' sets with it, so the index holds live sessions only.
//!
//! [`MemoryStore::with_sweep_period`] can batch purges at most once per period
//! instead; expired sessions then linger up to that long, as they did when every sweep
//! scanned the whole store.
//!
//! # Cost
//!
//! In the demo's login benchmark a logged-in OpenID Connect session takes about 1.9 KiB of
//! memory (7.7 KiB as a `Value` tree) and an OAuth 1.0a one about 0.6 KiB (5.6 KiB).
//! Encoding on writes and decoding on loads cost no more than cloning the trees did: a
//! login takes slightly fewer instructions than before (0.8 % fewer for OAuth 1.0a).
//! Storing the data as JSON instead took 2–3 % more instructions per login than this
//! encoding (parsing strings and numbers on every load) and 5–8 % more memory.
//!
//! Those figures were taken while ferroauth still stored its entries as `Value` trees.
//! They are now one JSON text each (see [`crate::session`]), which the encoding keeps as
//! one string; the tree form still matters for what an app stores itself. With that, the
//! encoded session of a login is 1,588 bytes (OpenID Connect) and 374 bytes (OAuth 1.0a),
//! about 1.8 and 0.6 KiB of memory.

mod codec;

pub use codec::SessionData;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, ExpiredDeletion, SessionStore};

use super::index::{INDEX_KEY, RevocationList, SessionIndex, keys_of_entry};

/// The default interval between purges of expired sessions: zero, every write purges
/// (which costs only the expired sessions' removal).
pub const DEFAULT_SWEEP_PERIOD: Duration = Duration::ZERO;

/// A session as held: its expiry and its data, encoded.
#[derive(Debug)]
struct Entry {
    expiry: OffsetDateTime,
    data: Arc<[u8]>,
    /// The owner keys of the session's [`INDEX_KEY`] entry (empty for most sessions),
    /// shared with the index's map.
    owners: Box<[Arc<str>]>,
}

impl Entry {
    fn new<D: SessionData>(expiry: OffsetDateTime, data: &D) -> session_store::Result<Self> {
        let owners = data
            .text(INDEX_KEY)
            .map(keys_of_entry)
            .unwrap_or_default()
            .into_iter()
            .map(Arc::from)
            .collect();
        Ok(Self {
            expiry,
            data: codec::encode(data)?,
            owners,
        })
    }
}

/// A pair of the expiry index: when the session with this id (an [`Id`]'s number, as `Id`
/// is not ordered) expires, reversed so that the max-heap pops the soonest first.
type Due = Reverse<(OffsetDateTime, i128)>;

#[derive(Debug)]
struct Inner {
    sessions: HashMap<Id, Entry>,
    /// Holds a pair for every session's current expiry, plus stale pairs (see module docs).
    expiries: BinaryHeap<Due>,
    last_purge: Instant,
    /// The ids of the sessions each owner key owns.
    owned: HashMap<Arc<str>, HashSet<Id>>,
    /// Markers used once, until when.
    used: HashMap<String, OffsetDateTime>,
    /// Owners' ends (sealed-cookie revocations): when, in Unix milliseconds, until when.
    revoked: HashMap<String, (i64, OffsetDateTime)>,
}

/// Removes `id` from each of its owners' sets (and a set left empty).
fn unlink(owned: &mut HashMap<Arc<str>, HashSet<Id>>, id: Id, owners: &[Arc<str>]) {
    for key in owners {
        if let Some(ids) = owned.get_mut(key) {
            ids.remove(&id);
            if ids.is_empty() {
                owned.remove(key);
            }
        }
    }
}

impl Inner {
    fn insert(&mut self, id: Id, entry: Entry) {
        let expiry = entry.expiry;
        let owns = !entry.owners.is_empty();
        let previous = self.sessions.insert(id, entry);
        let before: &[Arc<str>] = previous.as_ref().map_or(&[], |p| &p.owners);
        if owns || !before.is_empty() {
            let Inner {
                sessions, owned, ..
            } = self;
            let now: &[Arc<str>] = sessions.get(&id).map_or(&[], |e| &e.owners);
            if before != now {
                unlink(owned, id, before);
                for key in now {
                    owned.entry(Arc::clone(key)).or_default().insert(id);
                }
            }
        }
        // Unless the session is new or its expiry moved, the index already has its pair.
        if previous.is_none_or(|p| p.expiry != expiry) {
            self.index(expiry, id);
        }
    }

    /// Removes the session `id` and its owners' links to it.
    fn take(&mut self, id: &Id) -> Option<Entry> {
        let entry = self.sessions.remove(id)?;
        unlink(&mut self.owned, *id, &entry.owners);
        Some(entry)
    }

    fn index(&mut self, expiry: OffsetDateTime, id: Id) {
        let full = self.expiries.len() == self.expiries.capacity();
        if full && self.expiries.len() >= 2 * self.sessions.len() {
            self.drop_stale_pairs();
        }
        self.expiries.push(Reverse((expiry, id.0)));
    }

    /// Keeps only the pairs of held sessions' current expiries, in place.
    fn drop_stale_pairs(&mut self) {
        let sessions = &self.sessions;
        let mut pairs = std::mem::take(&mut self.expiries).into_vec();
        pairs.retain(|Reverse((expiry, id))| {
            sessions.get(&Id(*id)).is_some_and(|e| e.expiry == *expiry)
        });
        self.expiries = BinaryHeap::from(pairs);
    }

    /// Removes the sessions expired at `now`; returns how many.
    fn purge(&mut self, now: OffsetDateTime) -> usize {
        let mut removed = 0;
        while let Some(&Reverse((expiry, id))) = self.expiries.peek() {
            if expiry > now {
                break;
            }
            self.expiries.pop();
            // The session may be gone already, or saved since with a later expiry.
            let id = Id(id);
            if self.sessions.get(&id).is_some_and(|e| e.expiry <= now) {
                self.take(&id);
                removed += 1;
            }
        }
        removed
    }
}

/// An in-memory [`SessionStore`] with expiry: see the [module docs](self).
#[derive(Debug, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
    sweep_period: Duration,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store that purges expired sessions on every write.
    pub fn new() -> Self {
        Self::with_sweep_period(DEFAULT_SWEEP_PERIOD)
    }

    /// An empty store whose writes purge expired sessions at most once per `period`.
    pub fn with_sweep_period(period: Duration) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                sessions: HashMap::new(),
                expiries: BinaryHeap::new(),
                last_purge: Instant::now(),
                owned: HashMap::new(),
                used: HashMap::new(),
                revoked: HashMap::new(),
            })),
            sweep_period: period,
        }
    }

    /// How often expired sessions are purged at most (zero: on every write).
    pub fn sweep_period(&self) -> Duration {
        self.sweep_period
    }

    /// Number of sessions held, including expired ones not yet purged.
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The largest session's data, in bytes as stored (about the size of its JSON): a way
    /// to check that no session grows without bound.
    pub fn largest_session_bytes(&self) -> usize {
        self.lock()
            .sessions
            .values()
            .map(|e| e.data.len())
            .max()
            .unwrap_or(0)
    }

    /// Removes every expired session now; returns how many were removed.
    pub fn sweep(&self) -> usize {
        let mut inner = self.lock();
        inner.last_purge = Instant::now();
        inner.purge(OffsetDateTime::now_utc())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lock, after a purge when one is due.
    fn write(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        if self.sweep_period.is_zero() {
            inner.purge(OffsetDateTime::now_utc());
        } else if inner.last_purge.elapsed() >= self.sweep_period {
            inner.last_purge = Instant::now();
            inner.purge(OffsetDateTime::now_utc());
        }
        inner
    }
}

impl MemoryStore {
    /// Stores `data` under `id` as a new session expiring at `expiry`; `id` is replaced by
    /// a fresh one while it names a held session.
    pub fn create_data<D: SessionData>(
        &self,
        id: &mut Id,
        expiry: OffsetDateTime,
        data: &D,
    ) -> session_store::Result<()> {
        let entry = Entry::new(expiry, data)?;
        let mut inner = self.write();
        while inner.sessions.contains_key(id) {
            *id = Id::default();
        }
        inner.insert(*id, entry);
        Ok(())
    }

    /// Stores `data` under `id`, expiring at `expiry`, whether or not it was held.
    pub fn save_data<D: SessionData>(
        &self,
        id: Id,
        expiry: OffsetDateTime,
        data: &D,
    ) -> session_store::Result<()> {
        let entry = Entry::new(expiry, data)?;
        self.write().insert(id, entry);
        Ok(())
    }

    /// Replaces the data of the live session `id`; `false` (and nothing stored) when it is
    /// not held or has expired.
    pub fn update_data<D: SessionData>(
        &self,
        id: Id,
        expiry: OffsetDateTime,
        data: &D,
    ) -> session_store::Result<bool> {
        let entry = Entry::new(expiry, data)?;
        let mut inner = self.write();
        if !inner.is_live(&id, OffsetDateTime::now_utc()) {
            return Ok(false);
        }
        inner.insert(id, entry);
        Ok(true)
    }

    /// Moves the expiry of the live session `id`; `false` when it is not held.
    pub fn set_expiry(&self, id: Id, expiry: OffsetDateTime) -> bool {
        let mut inner = self.lock();
        let (data, owners) = match inner.sessions.get(&id) {
            Some(e) if e.expiry > OffsetDateTime::now_utc() => {
                (Arc::clone(&e.data), e.owners.clone())
            }
            _ => return false,
        };
        inner.insert(
            id,
            Entry {
                expiry,
                data,
                owners,
            },
        );
        true
    }

    /// The data and expiry of the live session `id`, decoded as `D`; an expired session is
    /// removed and not returned.
    pub fn load_data<D: SessionData>(
        &self,
        id: &Id,
    ) -> session_store::Result<Option<(OffsetDateTime, D)>> {
        let now = OffsetDateTime::now_utc();
        let (expiry, data) = {
            let mut inner = self.lock();
            match inner.sessions.get(id) {
                Some(e) if e.expiry > now => (e.expiry, Arc::clone(&e.data)),
                Some(_) => {
                    inner.take(id);
                    return Ok(None);
                }
                None => return Ok(None),
            }
        };
        Ok(Some((expiry, codec::decode(&data)?)))
    }

    /// Forgets the session `id`.
    pub fn remove(&self, id: &Id) {
        self.lock().take(id);
    }
}

impl Inner {
    fn is_live(&self, id: &Id, now: OffsetDateTime) -> bool {
        self.sessions.get(id).is_some_and(|e| e.expiry > now)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.create_data(&mut record.id, record.expiry_date, &record.data)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.save_data(record.id, record.expiry_date, &record.data)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .load_data(session_id)?
            .map(|(expiry_date, data)| Record {
                id: *session_id,
                data,
                expiry_date,
            }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.remove(session_id);
        Ok(())
    }
}

/// How many used markers the store keeps before it first forgets the expired ones.
const USED_MARKERS_BEFORE_PURGE: usize = 1024;

#[async_trait]
impl SessionIndex for MemoryStore {
    async fn record(
        &self,
        keys: &[String],
        id: Id,
        _expiry: OffsetDateTime,
    ) -> Result<(), crate::Error> {
        let mut inner = self.lock();
        if inner.sessions.contains_key(&id) {
            for key in keys {
                inner
                    .owned
                    .entry(Arc::from(key.as_str()))
                    .or_default()
                    .insert(id);
            }
        }
        Ok(())
    }

    async fn end_sessions(&self, key: &str) -> Result<usize, crate::Error> {
        let now = OffsetDateTime::now_utc();
        let mut inner = self.lock();
        let ids = inner.owned.remove(key).unwrap_or_default();
        Ok(ids
            .iter()
            .filter_map(|id| inner.take(id))
            .filter(|e| e.expiry > now)
            .count())
    }

    async fn use_once(&self, marker: &str, until: OffsetDateTime) -> Result<bool, crate::Error> {
        let now = OffsetDateTime::now_utc();
        let mut inner = self.lock();
        // At each doubling: the purges cost O(1) per marker over time.
        let len = inner.used.len();
        if len >= USED_MARKERS_BEFORE_PURGE && len.is_power_of_two() {
            inner.used.retain(|_, until| *until > now);
        }
        match inner.used.get(marker) {
            Some(held) if *held > now => Ok(false),
            _ => {
                inner.used.insert(marker.to_owned(), until);
                Ok(true)
            }
        }
    }
}

/// A revocation list for the sealed cookies of one instance.
#[async_trait]
impl RevocationList for MemoryStore {
    async fn revoke(&self, key: &str, at: i64, until: OffsetDateTime) -> Result<(), crate::Error> {
        let now = OffsetDateTime::now_utc();
        let mut inner = self.lock();
        let len = inner.revoked.len();
        if len >= USED_MARKERS_BEFORE_PURGE && len.is_power_of_two() {
            inner.revoked.retain(|_, (_, until)| *until > now);
        }
        inner.revoked.insert(key.to_owned(), (at, until));
        Ok(())
    }

    async fn revoked_at(&self, key: &str) -> Result<Option<i64>, crate::Error> {
        let now = OffsetDateTime::now_utc();
        let inner = self.lock();
        let live = inner.revoked.get(key).filter(|(_, until)| *until > now);
        Ok(live.map(|(at, _)| *at))
    }
}

#[async_trait]
impl ExpiredDeletion for MemoryStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        self.sweep();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::collections::HashMap;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("k".to_owned(), json!("v"))]),
            expiry_date: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn round_trip_and_delete() {
        let store = MemoryStore::new();
        let mut r = record(time::Duration::hours(1));
        store.create(&mut r).await.unwrap();
        assert_eq!(store.load(&r.id).await.unwrap().unwrap(), r);
        store.delete(&r.id).await.unwrap();
        assert!(store.load(&r.id).await.unwrap().is_none());
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn expired_sessions_are_not_loaded_and_are_swept() {
        let store = MemoryStore::with_sweep_period(Duration::ZERO);
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
        let store = MemoryStore::with_sweep_period(Duration::from_secs(3600));
        let mut old = record(time::Duration::seconds(-1));
        store.create(&mut old).await.unwrap();
        let mut fresh = record(time::Duration::hours(1));
        store.create(&mut fresh).await.unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(store.sweep(), 1);
    }

    #[tokio::test]
    async fn every_write_purges_what_has_expired_by_default() {
        let store = MemoryStore::new();
        let mut short = Vec::new();
        for _ in 0..10 {
            let mut r = record(time::Duration::milliseconds(50));
            store.create(&mut r).await.unwrap();
            short.push(r);
        }
        let mut long = record(time::Duration::hours(1));
        store.create(&mut long).await.unwrap();
        assert_eq!(store.len(), 11);
        tokio::time::sleep(Duration::from_millis(100)).await;
        store.save(&long).await.unwrap();
        assert_eq!(store.len(), 1, "the save purged the ten expired sessions");
        assert_eq!(store.load(&long.id).await.unwrap().unwrap(), long);
        assert_eq!(store.sweep(), 0);
    }

    #[tokio::test]
    async fn an_extended_session_is_not_purged_at_its_old_expiry() {
        let store = MemoryStore::new();
        let mut r = record(time::Duration::milliseconds(50));
        store.create(&mut r).await.unwrap();
        r.expiry_date = OffsetDateTime::now_utc() + time::Duration::hours(1);
        store.save(&r).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut other = record(time::Duration::hours(1));
        store.create(&mut other).await.unwrap();
        assert_eq!(store.sweep(), 0);
        assert_eq!(store.load(&r.id).await.unwrap().unwrap(), r);
    }

    #[test]
    fn purge_follows_the_latest_expiry_of_each_session() {
        let store = MemoryStore::new();
        let t0 = OffsetDateTime::now_utc();
        let at = |s: i64| t0 + time::Duration::seconds(s);
        let entry = |s: i64| Entry {
            expiry: at(s),
            data: Arc::from(&[0u8][..]),
            owners: Box::default(),
        };
        let (extended, shortened, deleted, recreated) = (Id(1), Id(2), Id(3), Id(4));
        let mut inner = store.lock();
        inner.insert(extended, entry(10));
        inner.insert(extended, entry(30));
        inner.insert(shortened, entry(30));
        inner.insert(shortened, entry(10));
        inner.insert(deleted, entry(10));
        inner.sessions.remove(&deleted);
        inner.insert(recreated, entry(10));
        inner.sessions.remove(&recreated);
        inner.insert(recreated, entry(30));
        assert_eq!(inner.purge(at(20)), 1, "only the shortened session is due");
        assert!(!inner.sessions.contains_key(&shortened));
        assert_eq!(inner.sessions.len(), 2);
        assert_eq!(inner.purge(at(30)), 2);
        assert!(inner.sessions.is_empty() && inner.expiries.is_empty());
    }

    #[tokio::test]
    async fn owners_leave_the_index_with_their_sessions() {
        let store = MemoryStore::new();
        let owned = |who: &str| {
            let entry = format!(r#"{{"c":{{"user":"{who}"}}}}"#);
            HashMap::from([(INDEX_KEY.to_owned(), Value::String(entry))])
        };
        let now = OffsetDateTime::now_utc();
        let (mut a, mut b) = (Id::default(), Id::default());
        store
            .create_data(&mut a, now + time::Duration::hours(1), &owned("u1"))
            .unwrap();
        store
            .create_data(&mut b, now + time::Duration::hours(1), &owned("u1"))
            .unwrap();
        // A session whose owner changes moves in the index; a deleted one leaves it.
        store
            .save_data(b, now + time::Duration::hours(1), &owned("u2"))
            .unwrap();
        assert_eq!(store.lock().owned.len(), 2);
        store.remove(&a);
        assert_eq!(store.end_sessions("u1").await.unwrap(), 0);
        assert_eq!(store.end_sessions("u2").await.unwrap(), 1);
        assert!(store.is_empty() && store.lock().owned.is_empty());
        // An expired session leaves with the purge.
        let mut c = Id::default();
        let soon = now + time::Duration::milliseconds(1);
        store.create_data(&mut c, soon, &owned("u3")).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.sweep(), 1);
        assert!(store.lock().owned.is_empty());
    }

    #[test]
    fn used_markers_are_forgotten_once_expired() {
        let store = MemoryStore::new();
        let past = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            for i in 0..USED_MARKERS_BEFORE_PURGE * 2 {
                assert!(store.use_once(&format!("m{i}"), past).await.unwrap());
            }
            // An expired marker may be used again.
            assert!(store.use_once("m0", past).await.unwrap());
        });
        assert!(store.lock().used.len() < USED_MARKERS_BEFORE_PURGE * 2);
    }

    #[test]
    fn stale_pairs_do_not_pile_up() {
        let store = MemoryStore::new();
        let t0 = OffsetDateTime::now_utc();
        let mut inner = store.lock();
        for s in 0..10_000 {
            let expiry = t0 + time::Duration::seconds(s);
            let data = Arc::from(&[0u8][..]);
            let owners = Box::default();
            inner.insert(
                Id(1),
                Entry {
                    expiry,
                    data,
                    owners,
                },
            );
            inner.insert(
                Id(2 + i128::from(s % 3)),
                Entry {
                    expiry,
                    data: Arc::from(&[0u8][..]),
                    owners: Box::default(),
                },
            );
        }
        assert_eq!(inner.sessions.len(), 4);
        assert!(inner.expiries.len() <= 16, "{} pairs", inner.expiries.len());
    }

    #[tokio::test]
    async fn an_id_collision_on_create_picks_a_new_id() {
        let store = MemoryStore::new();
        let mut first = record(time::Duration::hours(1));
        store.create(&mut first).await.unwrap();
        let mut second = record(time::Duration::hours(1));
        second.id = first.id;
        second.data.insert("k".to_owned(), json!("other"));
        store.create(&mut second).await.unwrap();
        assert_ne!(second.id, first.id);
        assert_eq!(store.len(), 2);
        assert_eq!(store.load(&first.id).await.unwrap().unwrap(), first);
        assert_eq!(store.load(&second.id).await.unwrap().unwrap(), second);
    }

    #[tokio::test]
    async fn undecodable_data_is_an_error_and_stays() {
        let store = MemoryStore::new();
        let mut r = record(time::Duration::hours(1));
        store.create(&mut r).await.unwrap();
        store.lock().sessions.get_mut(&r.id).unwrap().data = Arc::from(&[1u8, 9][..]);
        let err = store.load(&r.id).await.unwrap_err();
        assert!(matches!(err, session_store::Error::Decode(_)), "{err}");
        assert_eq!(store.len(), 1);
    }

    fn sample() -> HashMap<String, Value> {
        HashMap::from([
            ("".to_owned(), json!(null)),
            ("flags".to_owned(), json!([true, false, null, [], {}])),
            (
                "numbers".to_owned(),
                json!([
                    0,
                    1,
                    127,
                    128,
                    u64::MAX,
                    -1,
                    i64::MIN,
                    0.1_f64,
                    -2.5e-300,
                    1e300,
                    f64::MIN_POSITIVE
                ]),
            ),
            (
                "text \u{e9}".to_owned(),
                json!({"quote\"": "line\nbreak \u{1f600}", "nested": {"deep": [{"a": "b"}]}}),
            ),
        ])
    }

    #[test]
    fn codec_round_trips_exactly() {
        let data = sample();
        let bytes = codec::encode(&data).unwrap();
        assert_eq!(
            codec::decode::<HashMap<String, Value>>(&bytes).unwrap(),
            data
        );
        let json_len = serde_json::to_vec(&data).unwrap().len();
        assert!(
            bytes.len() <= json_len,
            "{} > {json_len} bytes",
            bytes.len()
        );
        assert_eq!(
            codec::decode::<HashMap<String, Value>>(
                &codec::encode(&HashMap::<String, Value>::new()).unwrap()
            )
            .unwrap(),
            HashMap::new()
        );
    }

    #[test]
    fn texts_are_kept_as_strings_and_values_read_as_texts() {
        let texts = HashMap::from([("k".to_owned(), r#"{"a":[1]}"#.to_owned())]);
        let bytes = codec::encode(&texts).unwrap();
        assert_eq!(
            codec::decode::<HashMap<String, String>>(&bytes).unwrap(),
            texts
        );
        let values = HashMap::from([("k".to_owned(), json!({"a": [1]}))]);
        let bytes = codec::encode(&values).unwrap();
        assert_eq!(
            codec::decode::<HashMap<String, String>>(&bytes).unwrap(),
            texts
        );
    }

    #[tokio::test]
    async fn update_and_set_expiry_touch_only_live_sessions() {
        let store = MemoryStore::new();
        let texts = HashMap::from([("k".to_owned(), "1".to_owned())]);
        let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
        assert!(!store.update_data(Id(7), later, &texts).unwrap());
        assert!(!store.set_expiry(Id(7), later));
        assert!(store.is_empty(), "a gone session is not brought back");
        let mut id = Id(7);
        store.create_data(&mut id, later, &texts).unwrap();
        let two = HashMap::from([("k".to_owned(), "2".to_owned())]);
        assert!(store.update_data(id, later, &two).unwrap());
        assert!(store.set_expiry(id, later + time::Duration::hours(1)));
        let (expiry, read) = store
            .load_data::<HashMap<String, String>>(&id)
            .unwrap()
            .unwrap();
        assert_eq!((expiry, read), (later + time::Duration::hours(1), two));
    }

    #[test]
    fn codec_keeps_float_bits() {
        for f in [
            0.1_f64,
            -0.0,
            5e-324,
            1.0 / 3.0,
            2.225_073_858_507_201e-308,
            9_007_199_254_740_993.0,
        ] {
            let data = HashMap::from([("f".to_owned(), json!(f))]);
            let decoded: HashMap<String, Value> =
                codec::decode(&codec::encode(&data).unwrap()).unwrap();
            assert_eq!(decoded["f"].as_f64().unwrap().to_bits(), f.to_bits());
        }
    }

    #[test]
    fn codec_rejects_damaged_data() {
        let bytes = codec::encode(&sample()).unwrap();
        for len in 0..bytes.len() {
            assert!(
                codec::decode::<HashMap<String, Value>>(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(
            codec::decode::<HashMap<String, Value>>(&longer).is_err(),
            "trailing byte"
        );
        // A huge count must fail on the missing items, not reserve memory for them.
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(codec::decode::<HashMap<String, Value>>(&huge).is_err());
        let too_long = [0xff; 11];
        assert!(codec::decode::<HashMap<String, Value>>(&too_long).is_err());
        assert!(
            codec::decode::<HashMap<String, Value>>(&[1, 0, 42]).is_err(),
            "unknown tag"
        );
        assert!(
            codec::decode::<HashMap<String, Value>>(&[1, 1, 0xff, 0]).is_err(),
            "invalid UTF-8 key"
        );
    }
}
