//! Users in Redis: [`RedisUserStore`].

use async_trait::async_trait;
use tower_sessions_redis_store::fred::prelude::*;
use tower_sessions_redis_store::fred::types::{ClusterHash, CustomCommand};

use super::{Identity, IdentityKey, UserId, UserStore};
use crate::Error;

const IDENTITY: &str = "ferroauth:identity:";
const USER: &str = "ferroauth:user:";
const EMAIL: &str = "ferroauth:email:";

/// Counts a stored identity's verified address for its user, up (`by` = 1) or down (-1),
/// in the hash `<ARGV[1]><address>` of users → identities with that address verified; a
/// user at 0 leaves the hash (and the last one, the key).
macro_rules! lua_mail {
    () => {
        "local function mail(entry, user, by)
           if entry.email_verified == true and type(entry.email) == 'string' then
             local key = ARGV[1] .. entry.email
             if redis.call('HINCRBY', key, user, by) <= 0 then redis.call('HDEL', key, user) end
           end
         end
        "
    };
}

/// KEYS: the identity, the user. ARGV: the e-mail prefix, the user id, the identity's
/// JSON. 1: created; 0: the identity is linked already, nothing written.
const CREATE: &str = concat!(
    lua_mail!(),
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
     redis.call('SET', KEYS[1], ARGV[2])
     redis.call('SET', KEYS[2], '[' .. ARGV[3] .. ']')
     mail(cjson.decode(ARGV[3]), ARGV[2], 1)
     return 1"
);

/// KEYS and ARGV as [`CREATE`]. 1: linked or updated in place; 0: another user's
/// identity; -1: an unknown user. Nothing written but on 1.
const LINK: &str = concat!(
    lua_mail!(),
    "local owner = redis.call('GET', KEYS[1])
     if owner and owner ~= ARGV[2] then return 0 end
     local raw = redis.call('GET', KEYS[2])
     if not raw then return -1 end
     local list = cjson.decode(raw)
     local entry = cjson.decode(ARGV[3])
     local at = #list + 1
     for i, kept in ipairs(list) do
       if kept.authority == entry.authority and kept.sub == entry.sub then
         mail(kept, ARGV[2], -1)
         at = i
       end
     end
     list[at] = entry
     mail(entry, ARGV[2], 1)
     redis.call('SET', KEYS[2], cjson.encode(list))
     redis.call('SET', KEYS[1], ARGV[2])
     return 1"
);

/// KEYS as [`CREATE`]. ARGV: the e-mail prefix, the user id, the identity's authority and
/// subject. 1: unlinked; 0: not this user's; -1: its last identity, kept.
const UNLINK: &str = concat!(
    lua_mail!(),
    "if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
     local raw = redis.call('GET', KEYS[2])
     if not raw then return 0 end
     local list = cjson.decode(raw)
     for i, kept in ipairs(list) do
       if kept.authority == ARGV[3] and kept.sub == ARGV[4] then
         if #list == 1 then return -1 end
         mail(kept, ARGV[2], -1)
         table.remove(list, i)
         redis.call('SET', KEYS[2], cjson.encode(list))
         redis.call('DEL', KEYS[1])
         return 1
       end
     end
     return 0"
);

/// Users in Redis, shared by every instance of the app that uses the server. Keys, none
/// with an expiry (users are kept until the app deletes them):
///
/// - `ferroauth:identity:<authority's length>:<authority>:<sub>` → the user id (the
///   length prefix keeps (`a:b`, `c`) and (`a`, `b:c`) apart);
/// - `ferroauth:user:<id>` → the user's identities, a JSON list, oldest link first;
/// - `ferroauth:email:<address>` → a hash of the users with an identity whose address is
///   verified, each with how many such identities it has.
///
/// Creating, linking and unlinking are each one Lua script (`EVAL`), which Redis runs
/// alone: the check (linked already? another user's? the last identity?) and the writes
/// cannot interleave with another instance's. The scripts name the address hashes from
/// the stored identities, so the store needs a single Redis server (or a primary), not a
/// cluster.
#[derive(Clone)]
pub struct RedisUserStore {
    pool: Pool,
}

impl std::fmt::Debug for RedisUserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisUserStore").finish_non_exhaustive()
    }
}

fn failed(e: tower_sessions_redis_store::fred::error::Error) -> Error {
    Error::UserStore(format!("Redis: {e}"))
}

fn identity_key(key: &IdentityKey) -> String {
    format!(
        "{IDENTITY}{}:{}:{}",
        key.authority.len(),
        key.authority,
        key.sub
    )
}

fn user_key(user: &UserId) -> String {
    format!("{USER}{}", user.as_str())
}

fn json(identity: &Identity) -> Result<String, Error> {
    serde_json::to_string(identity).map_err(|e| Error::UserStore(format!("Redis: {e}")))
}

impl RedisUserStore {
    /// The store on `pool`.
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Runs `script` on the identity's and the user's keys with `args` after the e-mail
    /// prefix; its integer answer.
    async fn eval(
        &self,
        script: &'static str,
        identity: &IdentityKey,
        user: &UserId,
        args: Vec<Value>,
    ) -> Result<i64, Error> {
        // Offset 2: the first key, after the script and the number of keys.
        let command = CustomCommand::new_static("EVAL", ClusterHash::Offset(2), false);
        let mut all: Vec<Value> = vec![
            script.into(),
            2.into(),
            identity_key(identity).into(),
            user_key(user).into(),
            EMAIL.into(),
        ];
        all.extend(args);
        self.pool.custom(command, all).await.map_err(failed)
    }
}

#[async_trait]
impl UserStore for RedisUserStore {
    async fn find(&self, key: &IdentityKey) -> Result<Option<UserId>, Error> {
        let owner: Option<String> = self.pool.get(identity_key(key)).await.map_err(failed)?;
        Ok(owner.map(UserId))
    }

    async fn create(&self, identity: &Identity) -> Result<UserId, Error> {
        let id = UserId::random()?;
        let args = vec![id.as_str().into(), json(identity)?.into()];
        match self.eval(CREATE, &identity.key, &id, args).await? {
            1 => Ok(id),
            _ => Err(super::linked_elsewhere(identity)),
        }
    }

    async fn link(&self, user: &UserId, identity: &Identity) -> Result<(), Error> {
        let args = vec![user.as_str().into(), json(identity)?.into()];
        match self.eval(LINK, &identity.key, user, args).await? {
            1 => Ok(()),
            -1 => Err(Error::UnknownUser),
            _ => Err(super::linked_elsewhere(identity)),
        }
    }

    async fn unlink(&self, user: &UserId, key: &IdentityKey) -> Result<bool, Error> {
        let args = vec![
            user.as_str().into(),
            key.authority.as_str().into(),
            key.sub.as_str().into(),
        ];
        match self.eval(UNLINK, key, user, args).await? {
            1 => Ok(true),
            -1 => Err(Error::LastIdentity),
            _ => Ok(false),
        }
    }

    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, Error> {
        let raw: Option<String> = self.pool.get(user_key(user)).await.map_err(failed)?;
        match raw {
            None => Ok(Vec::new()),
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| Error::UserStore(format!("Redis: the identities of a user: {e}"))),
        }
    }

    async fn find_by_verified_email(&self, email: &str) -> Result<Option<UserId>, Error> {
        let users: Vec<String> = self
            .pool
            .hkeys(format!("{EMAIL}{email}"))
            .await
            .map_err(failed)?;
        match <[String; 1]>::try_from(users) {
            Ok([user]) => Ok(Some(UserId(user))),
            Err(_) => Ok(None),
        }
    }
}
