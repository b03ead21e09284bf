//! The user store conformance suite (`ferroauth_testkit::user_store_conformance`) against
//! every user store of this crate; the shared ones on real servers, each through two
//! store objects on one URL (two instances of an app), so that what one writes the other
//! reads and the rules hold across them.

use std::sync::Arc;

use ferroauth::users::MemoryUserStore;
use ferroauth_testkit::user_store_conformance::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    run(Arc::new(MemoryUserStore::new())).await;
}

/// The suite on two instances' stores of the database at `url`, then the two together.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
async fn shared(url: &str) {
    use ferroauth::session::store::StoreChoice;
    let choice: StoreChoice = url.parse().unwrap();
    let one = choice.open_user_store().await.expect("open");
    run(one.clone()).await;
    // A second instance: its tables exist already, the first run's users are there.
    let two = choice.open_user_store().await.expect("open again");
    run(two.clone()).await;
    across::run(&one, &two).await;
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "redis"))]
mod across {
    use ferroauth::users::{Identity, IdentityKey, SharedUserStore, UserId};

    fn identity(tag: &str, sub: &str, email: Option<&str>) -> Identity {
        Identity {
            key: IdentityKey {
                authority: format!("https://across.{tag}.test"),
                sub: sub.into(),
            },
            provider: "across".into(),
            email: email.map(Into::into),
            email_verified: email.is_some(),
        }
    }

    /// What one instance writes, the other reads, and the rules hold across them.
    pub async fn run(one: &SharedUserStore, two: &SharedUserStore) {
        let tag = UserId::random().unwrap().0.to_lowercase();
        let mail = format!("a@{tag}.example");
        let first = identity(&tag, "1", Some(&mail));
        let user = one.create(&first).await.unwrap();
        assert_eq!(two.find(&first.key).await.unwrap(), Some(user.clone()));
        assert_eq!(
            two.find_by_verified_email(&mail).await.unwrap(),
            Some(user.clone())
        );
        assert_eq!(
            two.create(&first).await.unwrap_err().code(),
            "identity_linked_to_another_user"
        );
        let second = identity(&tag, "2", None);
        two.link(&user, &second).await.unwrap();
        assert_eq!(
            one.identities(&user).await.unwrap(),
            vec![first.clone(), second.clone()]
        );
        // An address the provider stops vouching for stops finding the user.
        let other_mail = format!("b@{tag}.example");
        let vouched = identity(&tag, "2", Some(&other_mail));
        one.link(&user, &vouched).await.unwrap();
        assert_eq!(
            two.find_by_verified_email(&other_mail).await.unwrap(),
            Some(user.clone())
        );
        let unvouched = Identity {
            email_verified: false,
            ..vouched
        };
        two.link(&user, &unvouched).await.unwrap();
        assert_eq!(one.find_by_verified_email(&other_mail).await.unwrap(), None);
        assert_eq!(
            one.identities(&user).await.unwrap(),
            vec![first.clone(), unvouched.clone()]
        );
        assert!(one.unlink(&user, &first.key).await.unwrap());
        assert_eq!(two.find_by_verified_email(&mail).await.unwrap(), None);
        assert_eq!(
            two.unlink(&user, &unvouched.key).await.unwrap_err().code(),
            "last_identity"
        );

        // Concurrent first logins of one identity, half on each instance.
        let race = identity(&tag, "race", None);
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = if i % 2 == 0 { one.clone() } else { two.clone() };
                let race = race.clone();
                tokio::spawn(async move { store.create(&race).await })
            })
            .collect();
        let mut created = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => created += 1,
                Err(e) => assert_eq!(e.code(), "identity_linked_to_another_user", "{e}"),
            }
        }
        assert_eq!(created, 1, "one user for one identity, across instances");

        // Concurrent unlinks of a user's two identities, one on each instance.
        for round in 0..8 {
            let (a, b) = (
                identity(&tag, &format!("u{round}a"), None),
                identity(&tag, &format!("u{round}b"), None),
            );
            let user = one.create(&a).await.unwrap();
            two.link(&user, &b).await.unwrap();
            let unlink = |store: &SharedUserStore, key: IdentityKey| {
                let (store, user) = (store.clone(), user.clone());
                tokio::spawn(async move { store.unlink(&user, &key).await })
            };
            let (x, y) = (unlink(one, a.key.clone()), unlink(two, b.key.clone()));
            let results = [x.await.unwrap(), y.await.unwrap()];
            let gone = results.iter().filter(|r| matches!(r, Ok(true))).count();
            assert_eq!(gone, 1, "round {round}: {results:?}");
            assert_eq!(one.identities(&user).await.unwrap().len(), 1);
        }
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let db = ferroauth_testkit::servers::Sqlite::temp();
    shared(&db.url()).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Postgres])
    {
        return;
    }
    let pg = ferroauth_testkit::servers::Postgres::start();
    shared(&pg.url()).await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis() {
    if ferroauth_testkit::services::skip_without(&[ferroauth_testkit::services::Service::Redis]) {
        return;
    }
    let redis = ferroauth_testkit::servers::Redis::start();
    shared(&redis.url()).await;
}

/// A database that cannot be reached is a 503 at start whose text keeps the URL's
/// password out (it goes to logs).
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_names_no_password() {
    use ferroauth::session::store::StoreChoice;
    let port = ferroauth_testkit::servers::free_port();
    let choice: StoreChoice = format!("postgres://app:hunter2@127.0.0.1:{port}/app")
        .parse()
        .unwrap();
    let e = choice
        .open_user_store()
        .await
        .err()
        .expect("nothing listens");
    assert_eq!(e.code(), "user_store_failed", "{e}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(e.to_string().contains("127.0.0.1"), "{e}");
}
