//! Users in Redis: [`RedisUserStore`].

use async_trait::async_trait;
use fred::prelude::*;

use super::{Identity, IdentityKey, UserId, UserStore};
use crate::Error;
use crate::redis_script::Script;

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
static CREATE: Script = Script::new(concat!(
    lua_mail!(),
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
     redis.call('SET', KEYS[1], ARGV[2])
     redis.call('SET', KEYS[2], '[' .. ARGV[3] .. ']')
     mail(cjson.decode(ARGV[3]), ARGV[2], 1)
     return 1"
));

/// `link()`, on the identity `KEYS[1]` and the user `KEYS[2]` (id `ARGV[2]`), the
/// identity's JSON `ARGV[3]`. 1: linked or updated in place; 0: another user's identity;
/// -1: an unknown user. Nothing written but on 1.
macro_rules! lua_link {
    () => {
        "local function link()
     local owner = redis.call('GET', KEYS[1])
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
     return 1
   end
  "
    };
}

/// KEYS and ARGV as [`CREATE`]; answers as `link()` ([`lua_link`]).
static LINK: Script = Script::new(concat!(lua_mail!(), lua_link!(), "return link()"));

/// KEYS: the identity (the second is made here). ARGV: the e-mail prefix, the expected
/// user's id or `''`, the identity's JSON, the users' prefix. The user the identity is
/// linked to, updated as `link()` does unless it is not the expected one; `nil`: nobody.
static FIND_AND_UPDATE: Script = Script::new(concat!(
    lua_mail!(),
    lua_link!(),
    "local owner = redis.call('GET', KEYS[1])
     if not owner then return false end
     if ARGV[2] ~= '' and ARGV[2] ~= owner then return owner end
     KEYS[2] = ARGV[4] .. owner
     ARGV[2] = owner
     if link() == -1 then return redis.error_reply('ferroauth: unknown user') end
     return owner"
));

/// KEYS as [`CREATE`]. ARGV: the e-mail prefix, the user id, the identity's authority and
/// subject. 1: unlinked; 0: not this user's; -1: its last identity, kept.
static UNLINK: Script = Script::new(concat!(
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
));

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

fn failed(e: fred::error::Error) -> Error {
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
        script: &Script,
        identity: &IdentityKey,
        user: &UserId,
        args: Vec<Value>,
    ) -> Result<i64, Error> {
        let keys = vec![identity_key(identity).into(), user_key(user).into()];
        let mut all = vec![EMAIL.into()];
        all.extend(args);
        script.run(&self.pool, keys, all).await.map_err(failed)
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
        match self.eval(&CREATE, &identity.key, &id, args).await? {
            1 => Ok(id),
            _ => Err(super::linked_elsewhere(identity)),
        }
    }

    async fn link(&self, user: &UserId, identity: &Identity) -> Result<(), Error> {
        let args = vec![user.as_str().into(), json(identity)?.into()];
        match self.eval(&LINK, &identity.key, user, args).await? {
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
        match self.eval(&UNLINK, key, user, args).await? {
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

    async fn find_and_update(
        &self,
        identity: &Identity,
        expected: Option<&UserId>,
    ) -> Result<Option<UserId>, Error> {
        let expected = expected.map_or("", UserId::as_str);
        let keys = vec![identity_key(&identity.key).into()];
        let args: Vec<Value> = vec![
            EMAIL.into(),
            expected.into(),
            json(identity)?.into(),
            USER.into(),
        ];
        let owner: Option<String> = match FIND_AND_UPDATE.run(&self.pool, keys, args).await {
            Err(e) if e.details().contains("ferroauth: unknown user") => {
                return Err(Error::UnknownUser);
            }
            other => other.map_err(failed)?,
        };
        Ok(owner.map(UserId))
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
