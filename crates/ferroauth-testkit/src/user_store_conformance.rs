//! One conformance suite for user stores ([`ferroauth::users::UserStore`]): [`run`].
//!
//! Every store (memory, SQLite, PostgreSQL, Redis, or an app's own) is handed to [`run`],
//! which checks the rules the login routes rely on:
//!
//! | step | what must hold |
//! |---|---|
//! | create, find | a new user's first identity finds it; creating it again is refused (`identity_linked_to_another_user`) and creates nothing |
//! | link | a second identity finds the same user; linking it again updates its address; an identity of another user is refused and stays where it was; an unknown user is `unknown_user` |
//! | find and update | an unlinked identity finds nobody and writes nothing; a linked one finds its user and is updated (its address then finds the user by e-mail); with another user expected it is found and left as it was |
//! | unlink | an identity goes (and finds nobody); again, or from the wrong user, is `false`; the last one is refused (`last_identity`) and stays |
//! | keys | (`a:b`, `c`) and (`a`, `b:c`) are two identities; any text (quotes, `%`, non-ASCII) round-trips |
//! | e-mail | only a verified address finds a user; an address two users share finds neither |
//! | concurrency | of many concurrent first logins of one identity exactly one creates a user; two concurrent unlinks of a user's two identities never leave it none |
//!
//! Each run uses identities of its own (a random authority), so a store that keeps data
//! between runs (a database) can be checked again and again.

use std::sync::Arc;

use ferroauth::Error;
use ferroauth::users::{Identity, IdentityKey, SharedUserStore, UserId};

/// Runs every step against `store`; panics with the step's name at the first broken rule.
pub async fn run(store: SharedUserStore) {
    let run = Run::new();
    create_and_find(&store, &run).await;
    link(&store, &run).await;
    find_and_update(&store, &run).await;
    unlink(&store, &run).await;
    keys(&store, &run).await;
    email(&store, &run).await;
    concurrent_creates(&store, &run).await;
    concurrent_unlinks(&store, &run).await;
}

/// The identities of one run: under an authority no other run uses.
struct Run {
    tag: String,
}

impl Run {
    fn new() -> Self {
        let tag = UserId::random().expect("random").0;
        Self { tag }
    }

    fn identity(&self, name: &str) -> Identity {
        Identity {
            key: IdentityKey {
                authority: format!("https://op.{}.test", self.tag.to_lowercase()),
                sub: name.to_owned(),
            },
            provider: "op".into(),
            email: None,
            email_verified: false,
        }
    }

    fn with_email(&self, name: &str, email: &str, verified: bool) -> Identity {
        Identity {
            email: Some(email.to_owned()),
            email_verified: verified,
            ..self.identity(name)
        }
    }

    fn email(&self, local: &str) -> String {
        format!("{local}@{}.example", self.tag.to_lowercase())
    }
}

fn code(result: Result<impl std::fmt::Debug, Error>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(e) => e.code(),
    }
}

async fn create_and_find(store: &SharedUserStore, run: &Run) {
    let first = run.identity("create");
    let user = store.create(&first).await.expect("create");
    assert_eq!(store.find(&first.key).await.unwrap(), Some(user.clone()));
    assert_eq!(store.identities(&user).await.unwrap(), vec![first.clone()]);
    assert_eq!(
        code(store.create(&first).await),
        "identity_linked_to_another_user",
        "create: an identity already linked"
    );
    assert_eq!(store.find(&first.key).await.unwrap(), Some(user.clone()));
    assert_eq!(store.find(&run.identity("nobody").key).await.unwrap(), None);
    let stranger = UserId::random().unwrap();
    assert!(store.identities(&stranger).await.unwrap().is_empty());
}

async fn link(store: &SharedUserStore, run: &Run) {
    let (first, second) = (run.identity("link-1"), run.identity("link-2"));
    let user = store.create(&first).await.unwrap();
    store.link(&user, &second).await.expect("link");
    assert_eq!(store.find(&second.key).await.unwrap(), Some(user.clone()));
    let updated = Identity {
        provider: "op-2".into(),
        ..run.with_email("link-2", &run.email("new"), true)
    };
    store.link(&user, &updated).await.expect("link again");
    assert_eq!(
        store.identities(&user).await.unwrap(),
        vec![first.clone(), updated.clone()],
        "link again updates, in place"
    );
    let other = store.create(&run.identity("link-3")).await.unwrap();
    assert_eq!(
        code(store.link(&other, &first).await),
        "identity_linked_to_another_user"
    );
    assert_eq!(store.find(&first.key).await.unwrap(), Some(user.clone()));
    assert_eq!(store.identities(&other).await.unwrap().len(), 1);
    let unknown = UserId::random().unwrap();
    assert_eq!(
        code(store.link(&unknown, &run.identity("link-4")).await),
        "unknown_user"
    );
    assert_eq!(store.find(&run.identity("link-4").key).await.unwrap(), None);
}

async fn find_and_update(store: &SharedUserStore, run: &Run) {
    let nobody = run.identity("fau-0");
    assert_eq!(store.find_and_update(&nobody, None).await.unwrap(), None);
    assert_eq!(
        store.find(&nobody.key).await.unwrap(),
        None,
        "nothing written"
    );

    let first = run.identity("fau-1");
    let user = store.create(&first).await.unwrap();
    let moved = Identity {
        provider: "op-2".into(),
        ..run.with_email("fau-1", &run.email("fau"), true)
    };
    let found = store
        .find_and_update(&moved, None)
        .await
        .expect("find and update");
    assert_eq!(found, Some(user.clone()));
    assert_eq!(store.identities(&user).await.unwrap(), vec![moved.clone()]);
    assert_eq!(
        store
            .find_by_verified_email(&run.email("fau"))
            .await
            .unwrap(),
        Some(user.clone()),
        "the updated address counts"
    );
    let same = store.find_and_update(&first, Some(&user)).await.unwrap();
    assert_eq!(same, Some(user.clone()), "the expected user: updated");
    assert_eq!(store.identities(&user).await.unwrap(), vec![first.clone()]);

    let other = store.create(&run.identity("fau-2")).await.unwrap();
    let found = store.find_and_update(&moved, Some(&other)).await.unwrap();
    assert_eq!(found, Some(user.clone()), "another user expected: found");
    assert_eq!(
        store.identities(&user).await.unwrap(),
        vec![first],
        "another user expected: nothing written"
    );
    assert_eq!(store.identities(&other).await.unwrap().len(), 1);
}

async fn unlink(store: &SharedUserStore, run: &Run) {
    let (first, second) = (run.identity("unlink-1"), run.identity("unlink-2"));
    let user = store.create(&first).await.unwrap();
    store.link(&user, &second).await.unwrap();
    let other = store.create(&run.identity("unlink-3")).await.unwrap();
    assert!(
        !store.unlink(&other, &second.key).await.unwrap(),
        "the wrong user"
    );
    assert_eq!(store.find(&second.key).await.unwrap(), Some(user.clone()));
    assert!(store.unlink(&user, &second.key).await.unwrap());
    assert_eq!(store.find(&second.key).await.unwrap(), None);
    assert!(!store.unlink(&user, &second.key).await.unwrap(), "again");
    assert_eq!(code(store.unlink(&user, &first.key).await), "last_identity");
    assert_eq!(store.find(&first.key).await.unwrap(), Some(user.clone()));
    assert_eq!(store.identities(&user).await.unwrap(), vec![first]);
}

async fn keys(store: &SharedUserStore, run: &Run) {
    let base = run.identity("x").key.authority;
    let a = Identity {
        key: IdentityKey {
            authority: format!("{base}:b"),
            sub: "c".into(),
        },
        ..run.identity("x")
    };
    let b = Identity {
        key: IdentityKey {
            authority: base,
            sub: "b:c".into(),
        },
        ..run.identity("x")
    };
    let ua = store.create(&a).await.unwrap();
    let ub = store.create(&b).await.expect("another identity");
    assert_ne!(ua, ub);
    let odd = run.with_email("\"quoted\" 100% ünïcödé ' ; --", &run.email("ödd"), true);
    let user = store.create(&odd).await.unwrap();
    assert_eq!(store.find(&odd.key).await.unwrap(), Some(user.clone()));
    assert_eq!(store.identities(&user).await.unwrap(), vec![odd]);
}

async fn email(store: &SharedUserStore, run: &Run) {
    let (shared, own) = (run.email("shared"), run.email("own"));
    let verified = store
        .create(&run.with_email("mail-1", &own, true))
        .await
        .unwrap();
    store
        .create(&run.with_email("mail-2", &run.email("unverified"), false))
        .await
        .unwrap();
    assert_eq!(
        store.find_by_verified_email(&own).await.unwrap(),
        Some(verified)
    );
    assert_eq!(
        store
            .find_by_verified_email(&run.email("unverified"))
            .await
            .unwrap(),
        None,
        "an unverified address finds nobody"
    );
    store
        .create(&run.with_email("mail-3", &shared, true))
        .await
        .unwrap();
    store
        .create(&run.with_email("mail-4", &shared, true))
        .await
        .unwrap();
    assert_eq!(
        store.find_by_verified_email(&shared).await.unwrap(),
        None,
        "an address two users share finds neither"
    );
}

async fn concurrent_creates(store: &SharedUserStore, run: &Run) {
    let identity = Arc::new(run.identity("race"));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, identity) = (store.clone(), identity.clone());
            tokio::spawn(async move { store.create(&identity).await })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        match task.await.expect("task") {
            Ok(user) => created.push(user),
            Err(e) => assert_eq!(e.code(), "identity_linked_to_another_user", "{e}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one first login creates a user");
    assert_eq!(
        store.find(&identity.key).await.unwrap().as_ref(),
        created.first()
    );
}

async fn concurrent_unlinks(store: &SharedUserStore, run: &Run) {
    for round in 0..8 {
        let first = run.identity(&format!("both-{round}-1"));
        let second = run.identity(&format!("both-{round}-2"));
        let user = store.create(&first).await.unwrap();
        store.link(&user, &second).await.unwrap();
        let unlink = |key: IdentityKey| {
            let (store, user) = (store.clone(), user.clone());
            tokio::spawn(async move { store.unlink(&user, &key).await })
        };
        let (a, b) = (unlink(first.key.clone()), unlink(second.key.clone()));
        let results = [a.await.unwrap(), b.await.unwrap()];
        let gone = results.iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(gone, 1, "round {round}: {results:?}");
        assert_eq!(store.identities(&user).await.unwrap().len(), 1);
    }
}
