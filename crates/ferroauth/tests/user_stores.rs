//! The user store conformance suite (`ferroauth_testkit::user_store_conformance`) against
//! every user store of this crate.

use std::sync::Arc;

use ferroauth::users::MemoryUserStore;
use ferroauth_testkit::user_store_conformance::run;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory() {
    run(Arc::new(MemoryUserStore::new())).await;
}
