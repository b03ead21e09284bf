//! [`MemoryUserStore`]: users in the process's memory.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Identity, IdentityKey, UserId, UserStore};
use crate::Error;

/// Users and their identities in memory, under one lock: for one instance, tests and
/// development. Everything is lost with the process.
#[derive(Debug, Default)]
pub struct MemoryUserStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Each user's identities, oldest link first.
    users: HashMap<UserId, Vec<Identity>>,
    /// Each linked identity's user.
    owners: HashMap<IdentityKey, UserId>,
}

impl MemoryUserStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves the maps consistent: every
        // change below is one insert or remove per map, done after its checks.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl UserStore for MemoryUserStore {
    async fn find(&self, key: &IdentityKey) -> Result<Option<UserId>, Error> {
        Ok(self.lock().owners.get(key).cloned())
    }

    async fn create(&self, identity: &Identity) -> Result<UserId, Error> {
        let id = UserId::random()?;
        let mut inner = self.lock();
        if inner.owners.contains_key(&identity.key) {
            return Err(super::linked_elsewhere(identity));
        }
        inner.owners.insert(identity.key.clone(), id.clone());
        inner.users.insert(id.clone(), vec![identity.clone()]);
        Ok(id)
    }

    async fn link(&self, user: &UserId, identity: &Identity) -> Result<(), Error> {
        let mut inner = self.lock();
        match inner.owners.get(&identity.key) {
            Some(owner) if owner != user => return Err(super::linked_elsewhere(identity)),
            _ => {}
        }
        let identities = inner.users.get_mut(user).ok_or(Error::UnknownUser)?;
        match identities.iter_mut().find(|i| i.key == identity.key) {
            // Every login of a linked identity comes here: nothing to copy when nothing
            // changed.
            Some(kept) if kept == identity => return Ok(()),
            Some(kept) => *kept = identity.clone(),
            None => identities.push(identity.clone()),
        }
        inner.owners.insert(identity.key.clone(), user.clone());
        Ok(())
    }

    async fn unlink(&self, user: &UserId, key: &IdentityKey) -> Result<bool, Error> {
        let mut inner = self.lock();
        let Some(identities) = inner.users.get_mut(user) else {
            return Ok(false);
        };
        let Some(at) = identities.iter().position(|i| i.key == *key) else {
            return Ok(false);
        };
        if identities.len() == 1 {
            return Err(Error::LastIdentity);
        }
        identities.remove(at);
        inner.owners.remove(key);
        Ok(true)
    }

    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, Error> {
        Ok(self.lock().users.get(user).cloned().unwrap_or_default())
    }

    async fn find_by_verified_email(&self, email: &str) -> Result<Option<UserId>, Error> {
        let inner = self.lock();
        let mut found = inner
            .users
            .iter()
            .filter(|(_, ids)| ids.iter().any(|i| i.verified_email() == Some(email)))
            .map(|(user, _)| user);
        match (found.next(), found.next()) {
            (Some(user), None) => Ok(Some(user.clone())),
            _ => Ok(None),
        }
    }
}
