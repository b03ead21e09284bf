//! Load test on loopback, with the demo binary as child processes.
//!
//! ```sh
//! cargo build --release -p ferroauth-demo --bin ferroauth-demo --example loadtest
//! # One instance, zero-setup mode (embedded testkit provider, --auto-approve --fast):
//! target/release/examples/loadtest [LOGINS] [IN_FLIGHT] [-- DEMO ARGS...]
//! # Two instances sharing a store (redis | postgres | sqlite | cookie), each login
//! # starting on one and finishing on the other, both ways, against a testkit provider
//! # run by this program; redis-server / PostgreSQL are started here too:
//! target/release/examples/loadtest --pair redis [LOGINS] [IN_FLIGHT]
//! ```
//!
//! Defaults: 10,000 logins (1,000 per direction with `--pair`), 64 in flight, the
//! `ferroauth-demo` binary next to this example's directory (or `FERROAUTH_DEMO_BIN`).
//! Exits non-zero on any failure or mix-up.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;

use support::load::{self, DemoProcess};
use support::{harness, services};

fn demo_bin() -> PathBuf {
    std::env::var_os("FERROAUTH_DEMO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("current exe");
            exe.parent()
                .and_then(|p| p.parent())
                .expect("target dir")
                .join("ferroauth-demo")
        })
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ok = if args.first().map(String::as_str) == Some("--pair") {
        let store = args.get(1).cloned().unwrap_or_else(|| "redis".into());
        let logins = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(1000);
        let in_flight = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(64);
        runtime.block_on(pair(&store, logins, in_flight))
    } else {
        let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
        let (ours, demo_args) = args.split_at(split);
        let demo_args: Vec<&str> = demo_args.iter().skip(1).map(String::as_str).collect();
        let logins = ours.first().and_then(|v| v.parse().ok()).unwrap_or(10_000);
        let in_flight = ours.get(1).and_then(|v| v.parse().ok()).unwrap_or(64);
        let demo = DemoProcess::spawn(&demo_bin(), &demo_args);
        let report = runtime.block_on(load::run(&demo, logins, in_flight));
        println!("{}", report.summary());
        print_failures(&report.tally);
        report.tally.failures.is_empty() && report.tally.ok == logins
    };
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

fn print_failures(tally: &harness::Tally) {
    for failure in tally.failures.iter().take(5) {
        println!("  failure: {failure}");
    }
}

/// Two demo processes over one store; `logins` each way.
async fn pair(store: &str, logins: usize, in_flight: usize) -> bool {
    let _redis;
    let _pg;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut extra: Vec<String> = Vec::new();
    let store_arg = match store {
        "redis" => {
            let r = services::Redis::start();
            let url = r.url();
            _redis = r;
            url
        }
        "postgres" => {
            let p = services::Postgres::start();
            let url = p.url();
            _pg = p;
            url
        }
        "sqlite" => format!("sqlite://{}", dir.path().join("sessions.db").display()),
        "cookie" => {
            extra.push("--cookie-keys".into());
            extra.push(ferroauth::session::sealed::CookieKeys::generate("k1").unwrap());
            "cookie".into()
        }
        other => panic!("unknown store {other}: redis, postgres, sqlite or cookie"),
    };
    let ports = [services::free_port(), services::free_port()];
    let bases: Vec<String> = ports
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}"))
        .collect();
    let users = harness::user_names(50);
    let provider = harness::provider(&[&bases[0], &bases[1]], users.len()).await;
    let config = dir.path().join("ferroauth.toml");
    std::fs::write(&config, harness::settings_toml(&provider)).expect("settings file");
    let demos: Vec<DemoProcess> = ports
        .iter()
        .map(|port| {
            let listen = format!("127.0.0.1:{port}");
            let mut args: Vec<&str> = vec![
                "--config",
                config.to_str().unwrap(),
                "--listen",
                &listen,
                "--session-store",
                &store_arg,
            ];
            args.extend(extra.iter().map(String::as_str));
            DemoProcess::spawn_args(&demo_bin(), &args)
        })
        .collect();
    let http = harness::http();
    let mut ok = true;
    for (from, to, label) in [(0, 1, "A->B"), (1, 0, "B->A")] {
        let started = std::time::Instant::now();
        let tally = harness::run_logins(
            &http,
            std::slice::from_ref(&demos[from].base),
            std::slice::from_ref(&demos[to].base),
            logins,
            in_flight,
            &users,
        )
        .await;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{store} two processes {label}: {} of {logins} ok, {} failed, {} mix-ups in {secs:.2} s ({:.0} logins/s)",
            tally.ok,
            tally.failures.len(),
            tally.mixups,
            tally.ok as f64 / secs
        );
        print_failures(&tally);
        ok &= tally.failures.is_empty() && tally.ok == logins;
    }
    for (demo, name) in demos.iter().zip(["A", "B"]) {
        println!(
            "  instance {name} (pid {}): peak RSS {:.1} MiB",
            demo.pid(),
            demo.status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0
        );
    }
    ok
}
