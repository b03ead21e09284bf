//! The load test, small: a few hundred logins through the demo binary (as a child process)
//! with the embedded testkit provider. The full run (10,000 logins, 64 in flight, release
//! build) is `examples/loadtest.rs`.

mod support;

use std::path::Path;

/// 300 logins, 32 in flight, against the demo started with `extra` arguments: every one
/// completes, and none comes back with another login's user.
async fn three_hundred_logins(extra: &[&str]) {
    let demo =
        support::load::DemoProcess::spawn(Path::new(env!("CARGO_BIN_EXE_ferroauth-demo")), extra);
    let report = support::load::run(&demo, 300, 32).await;
    println!("{}", report.summary());
    assert_eq!(report.tally.mixups, 0, "{:?}", report.tally.failures);
    assert_eq!(
        report.tally.ok,
        300,
        "{:?}",
        &report.tally.failures[..report.tally.failures.len().min(5)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_under_load_memory_store() {
    three_hundred_logins(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_under_load_cookie_store() {
    three_hundred_logins(&["--session-store", "cookie"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_under_load_on_actix() {
    three_hundred_logins(&["--framework", "actix"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_under_load_on_actix_cookie_store() {
    three_hundred_logins(&["--framework", "actix", "--session-store", "cookie"]).await;
}
