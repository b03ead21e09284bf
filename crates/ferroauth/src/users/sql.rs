//! Users in SQLite or PostgreSQL: [`SqlUserStore`].

use async_trait::async_trait;
use time::OffsetDateTime;
#[cfg(feature = "postgres")]
use tower_sessions_sqlx_store::sqlx::PgPool;
#[cfg(feature = "sqlite")]
use tower_sessions_sqlx_store::sqlx::SqlitePool;
use tower_sessions_sqlx_store::sqlx::{Error as SqlError, query, query_as, query_scalar};

use super::{Identity, IdentityKey, UserId, UserStore};
use crate::Error;

/// The statements of one SQL dialect.
struct Dialect {
    create_users: &'static str,
    create_identities: &'static str,
    index_users: &'static str,
    index_emails: &'static str,
    find: &'static str,
    insert_user: &'static str,
    insert_identity: &'static str,
    link: &'static str,
    /// Updates an identity's client and address when it is linked to the expected user
    /// (or any, with none expected): its user.
    update: &'static str,
    user_exists: &'static str,
    /// Taken before an unlink where writers are not serialized (PostgreSQL), so that two
    /// unlinks of one user's identities count its identities one after the other.
    lock_user: Option<&'static str>,
    unlink: &'static str,
    identities: &'static str,
    by_email: &'static str,
}

#[cfg(feature = "sqlite")]
const SQLITE: Dialect = Dialect {
    create_users: "create table if not exists ferroauth_users (\
        id text primary key not null, created_at integer not null)",
    // The rowid orders the links: a new row gets one more than the largest, an update
    // keeps its own.
    create_identities: "create table if not exists ferroauth_identities (\
        authority text not null, sub text not null, \
        user_id text not null references ferroauth_users (id), \
        provider text not null, email text, email_verified boolean not null, \
        linked_at integer not null, primary key (authority, sub))",
    index_users: "create index if not exists ferroauth_identities_user \
        on ferroauth_identities (user_id)",
    index_emails: "create index if not exists ferroauth_identities_email \
        on ferroauth_identities (email) where email_verified",
    find: "select user_id from ferroauth_identities where authority = ?1 and sub = ?2",
    insert_user: "insert into ferroauth_users (id, created_at) values (?1, ?2)",
    insert_identity: "insert into ferroauth_identities \
        (authority, sub, user_id, provider, email, email_verified, linked_at) \
        values (?1, ?2, ?3, ?4, ?5, ?6, ?7) on conflict (authority, sub) do nothing",
    link: "insert into ferroauth_identities \
        (authority, sub, user_id, provider, email, email_verified, linked_at) \
        select ?1, ?2, ?3, ?4, ?5, ?6, ?7 where exists (select 1 from ferroauth_users where id = ?3) \
        on conflict (authority, sub) do update set provider = excluded.provider, \
        email = excluded.email, email_verified = excluded.email_verified \
        where ferroauth_identities.user_id = excluded.user_id",
    update: "update ferroauth_identities set provider = ?3, email = ?4, email_verified = ?5 \
        where authority = ?1 and sub = ?2 and (?6 is null or user_id = ?6) returning user_id",
    user_exists: "select count(*) from ferroauth_users where id = ?1",
    // SQLite runs one writer at a time: the delete below counts and deletes in one step.
    lock_user: None,
    unlink: "delete from ferroauth_identities where authority = ?1 and sub = ?2 and user_id = ?3 \
        and (select count(*) from ferroauth_identities where user_id = ?3) > 1",
    identities: "select authority, sub, provider, email, email_verified from ferroauth_identities \
        where user_id = ?1 order by rowid",
    by_email: "select distinct user_id from ferroauth_identities \
        where email = ?1 and email_verified limit 2",
};

#[cfg(feature = "postgres")]
const POSTGRES: Dialect = Dialect {
    create_users: "create table if not exists ferroauth_users (\
        id text primary key not null, created_at bigint not null)",
    create_identities: "create table if not exists ferroauth_identities (\
        authority text not null, sub text not null, \
        user_id text not null references ferroauth_users (id), \
        provider text not null, email text, email_verified boolean not null, \
        linked_at bigint not null, seq bigint generated always as identity, \
        primary key (authority, sub))",
    index_users: "create index if not exists ferroauth_identities_user \
        on ferroauth_identities (user_id)",
    index_emails: "create index if not exists ferroauth_identities_email \
        on ferroauth_identities (email) where email_verified",
    find: "select user_id from ferroauth_identities where authority = $1 and sub = $2",
    insert_user: "insert into ferroauth_users (id, created_at) values ($1, $2)",
    insert_identity: "insert into ferroauth_identities \
        (authority, sub, user_id, provider, email, email_verified, linked_at) \
        values ($1, $2, $3, $4, $5, $6, $7) on conflict (authority, sub) do nothing",
    link: "insert into ferroauth_identities \
        (authority, sub, user_id, provider, email, email_verified, linked_at) \
        select $1, $2, $3, $4, $5, $6, $7 where exists (select 1 from ferroauth_users where id = $3) \
        on conflict (authority, sub) do update set provider = excluded.provider, \
        email = excluded.email, email_verified = excluded.email_verified \
        where ferroauth_identities.user_id = excluded.user_id",
    update: "update ferroauth_identities set provider = $3, email = $4, email_verified = $5 \
        where authority = $1 and sub = $2 and ($6::text is null or user_id = $6) \
        returning user_id",
    user_exists: "select count(*) from ferroauth_users where id = $1",
    // Under READ COMMITTED, two concurrent deletes would each count the other's row; the
    // user's row lock makes the second wait, and its delete then counts afresh. `no key
    // update`: links (whose foreign key check shares the row) do not wait for it.
    lock_user: Some("select id from ferroauth_users where id = $1 for no key update"),
    unlink: "delete from ferroauth_identities where authority = $1 and sub = $2 and user_id = $3 \
        and (select count(*) from ferroauth_identities where user_id = $3) > 1",
    identities: "select authority, sub, provider, email, email_verified from ferroauth_identities \
        where user_id = $1 order by seq",
    by_email: "select distinct user_id from ferroauth_identities \
        where email = $1 and email_verified limit 2",
};

#[derive(Debug, Clone)]
enum Db {
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// Users in a SQL database (SQLite or PostgreSQL), shared by every instance of the app
/// that uses it. Two tables, created at start if missing:
///
/// - `ferroauth_users (id, created_at)`: one row per user (`created_at` in Unix seconds);
/// - `ferroauth_identities (authority, sub, user_id, provider, email, email_verified,
///   linked_at)`: one row per linked identity, its primary key (authority, sub), so that
///   the database itself refuses to link one identity twice. Links are ordered by the
///   rowid in SQLite and by an identity column `seq` in PostgreSQL.
///
/// Each method is one statement or one transaction: a creation inserts the user and its
/// identity together (a second creation of one identity inserts nothing and is refused);
/// a link is one upsert that neither takes another user's identity nor links to an unknown
/// user; an unlink deletes only when the user keeps another identity, counted in the same
/// statement (SQLite runs one writer at a time; PostgreSQL first locks the user's row).
#[derive(Debug, Clone)]
pub struct SqlUserStore {
    db: Db,
}

/// `$body` with `$pool` the pool and `$d` the dialect of the database.
macro_rules! on_db {
    ($db:expr, |$pool:ident, $d:ident| $body:expr) => {
        match $db {
            #[cfg(feature = "sqlite")]
            Db::Sqlite($pool) => {
                let $d = &SQLITE;
                $body
            }
            #[cfg(feature = "postgres")]
            Db::Postgres($pool) => {
                let $d = &POSTGRES;
                $body
            }
        }
    };
}

/// A database error; sqlx's messages name no URL or password.
fn failed(e: SqlError) -> Error {
    Error::UserStore(format!("SQL database: {e}"))
}

/// What an identity row holds besides its key, in column order.
type Row = (String, String, String, Option<String>, bool);

impl SqlUserStore {
    /// The store in the SQLite database of `pool`: creates its tables.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite(pool: SqlitePool) -> Result<Self, Error> {
        Self::migrate(Db::Sqlite(pool)).await
    }

    /// The store in the PostgreSQL database of `pool`: creates its tables.
    #[cfg(feature = "postgres")]
    pub async fn postgres(pool: PgPool) -> Result<Self, Error> {
        Self::migrate(Db::Postgres(pool)).await
    }

    async fn migrate(db: Db) -> Result<Self, Error> {
        on_db!(&db, |pool, d| {
            for statement in [
                d.create_users,
                d.create_identities,
                d.index_users,
                d.index_emails,
            ] {
                query(statement).execute(pool).await.map_err(failed)?;
            }
        });
        Ok(Self { db })
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }
}

#[async_trait]
impl UserStore for SqlUserStore {
    async fn find(&self, key: &IdentityKey) -> Result<Option<UserId>, Error> {
        let owner: Option<String> = on_db!(&self.db, |pool, d| {
            query_scalar(d.find)
                .bind(&key.authority)
                .bind(&key.sub)
                .fetch_optional(pool)
                .await
        })
        .map_err(failed)?;
        Ok(owner.map(UserId))
    }

    async fn create(&self, identity: &Identity) -> Result<UserId, Error> {
        let id = UserId::random()?;
        let now = Self::now();
        let inserted = on_db!(&self.db, |pool, d| async {
            let mut tx = pool.begin().await?;
            query(d.insert_user)
                .bind(id.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let rows = query(d.insert_identity)
                .bind(&identity.key.authority)
                .bind(&identity.key.sub)
                .bind(id.as_str())
                .bind(&identity.provider)
                .bind(identity.email.as_deref())
                .bind(identity.email_verified)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Already linked: the user row goes with the transaction.
            if rows == 0 {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            Ok::<_, SqlError>(rows == 1)
        }
        .await);
        match inserted {
            Ok(true) => Ok(id),
            Ok(false) => Err(super::linked_elsewhere(identity)),
            // `on conflict do nothing` leaves no violation to report; kept as a refusal,
            // never a 503, should a database raise one all the same.
            Err(e) if is_unique_violation(&e) => Err(super::linked_elsewhere(identity)),
            Err(e) => Err(failed(e)),
        }
    }

    async fn link(&self, user: &UserId, identity: &Identity) -> Result<(), Error> {
        let now = Self::now();
        let rows = on_db!(&self.db, |pool, d| {
            query(d.link)
                .bind(&identity.key.authority)
                .bind(&identity.key.sub)
                .bind(user.as_str())
                .bind(&identity.provider)
                .bind(identity.email.as_deref())
                .bind(identity.email_verified)
                .bind(now)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })
        .map_err(failed)?;
        if rows == 1 {
            return Ok(());
        }
        // Nothing written: the identity is another user's, or the user is unknown (as in
        // the memory store, the first wins when both hold). Users are never deleted, so a
        // user that exists now existed at the upsert.
        let users: i64 = on_db!(&self.db, |pool, d| {
            query_scalar(d.user_exists)
                .bind(user.as_str())
                .fetch_one(pool)
                .await
        })
        .map_err(failed)?;
        if users > 0 {
            return Err(super::linked_elsewhere(identity));
        }
        match self.find(&identity.key).await? {
            Some(owner) if owner != *user => Err(super::linked_elsewhere(identity)),
            _ => Err(Error::UnknownUser),
        }
    }

    /// One statement for a returning user (the identity updated where it is linked to the
    /// expected user, or to anyone); a second, to find the owner, only when an expected
    /// user was given and the identity is not theirs.
    async fn find_and_update(
        &self,
        identity: &Identity,
        expected: Option<&UserId>,
    ) -> Result<Option<UserId>, Error> {
        let updated: Option<String> = on_db!(&self.db, |pool, d| {
            query_scalar(d.update)
                .bind(&identity.key.authority)
                .bind(&identity.key.sub)
                .bind(&identity.provider)
                .bind(identity.email.as_deref())
                .bind(identity.email_verified)
                .bind(expected.map(UserId::as_str))
                .fetch_optional(pool)
                .await
        })
        .map_err(failed)?;
        match (updated, expected) {
            (Some(owner), _) => Ok(Some(UserId(owner))),
            (None, None) => Ok(None),
            (None, Some(_)) => self.find(&identity.key).await,
        }
    }

    async fn unlink(&self, user: &UserId, key: &IdentityKey) -> Result<bool, Error> {
        let outcome = on_db!(&self.db, |pool, d| async {
            let mut tx = pool.begin().await?;
            if let Some(lock) = d.lock_user {
                query(lock).bind(user.as_str()).execute(&mut *tx).await?;
            }
            let rows = query(d.unlink)
                .bind(&key.authority)
                .bind(&key.sub)
                .bind(user.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let outcome = if rows == 1 {
                Ok(true)
            } else {
                // Nothing deleted: not this user's identity, or its last one.
                let owner: Option<String> = query_scalar(d.find)
                    .bind(&key.authority)
                    .bind(&key.sub)
                    .fetch_optional(&mut *tx)
                    .await?;
                match owner {
                    Some(owner) if owner == user.as_str() => Err(Error::LastIdentity),
                    _ => Ok(false),
                }
            };
            tx.commit().await?;
            Ok::<_, SqlError>(outcome)
        }
        .await);
        outcome.map_err(failed)?
    }

    async fn identities(&self, user: &UserId) -> Result<Vec<Identity>, Error> {
        let rows: Vec<Row> = on_db!(&self.db, |pool, d| {
            query_as(d.identities)
                .bind(user.as_str())
                .fetch_all(pool)
                .await
        })
        .map_err(failed)?;
        Ok(rows
            .into_iter()
            .map(
                |(authority, sub, provider, email, email_verified)| Identity {
                    key: IdentityKey { authority, sub },
                    provider,
                    email,
                    email_verified,
                },
            )
            .collect())
    }

    async fn find_by_verified_email(&self, email: &str) -> Result<Option<UserId>, Error> {
        // Two rows at most: a second user is enough to join neither.
        let users: Vec<String> = on_db!(&self.db, |pool, d| {
            query_scalar(d.by_email).bind(email).fetch_all(pool).await
        })
        .map_err(failed)?;
        match <[String; 1]>::try_from(users) {
            Ok([user]) => Ok(Some(UserId(user))),
            Err(_) => Ok(None),
        }
    }
}

fn is_unique_violation(e: &SqlError) -> bool {
    e.as_database_error()
        .is_some_and(|db| db.is_unique_violation())
}
