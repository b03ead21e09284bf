//! Load test: N logins, M in flight, against the demo binary on loopback.
//!
//! ```sh
//! cargo build --release -p ferroauth-demo --bin ferroauth-demo --example loadtest
//! target/release/examples/loadtest [LOGINS] [IN_FLIGHT] [-- DEMO ARGS...]
//! ```
//!
//! Defaults: 10,000 logins, 64 in flight, the `ferroauth-demo` binary next to this
//! example's directory (or `FERROAUTH_DEMO_BIN`). Extra arguments go to the demo, e.g.
//! `-- --session-store redis://127.0.0.1:6390`. Exits non-zero on any failure or mix-up.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let (ours, demo_args) = args.split_at(split);
    let demo_args: Vec<&str> = demo_args.iter().skip(1).map(String::as_str).collect();
    let logins = ours.first().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let in_flight = ours.get(1).and_then(|v| v.parse().ok()).unwrap_or(64);
    let bin = std::env::var_os("FERROAUTH_DEMO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("current exe");
            exe.parent()
                .and_then(|p| p.parent())
                .expect("target dir")
                .join("ferroauth-demo")
        });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let demo = support::load::DemoProcess::spawn(&bin, &demo_args);
    let report = runtime.block_on(support::load::run(&demo, logins, in_flight));
    println!("{}", report.summary());
    for failure in report.tally.failures.iter().take(5) {
        println!("  failure: {failure}");
    }
    if report.tally.failures.is_empty() && report.tally.ok == logins {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
