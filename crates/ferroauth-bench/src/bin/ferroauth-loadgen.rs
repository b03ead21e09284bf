//! `ferroauth-loadgen`: complete logins against `ferroauth-demo`, and what they cost it.
//!
//! ```text
//! cargo build --release -p ferroauth-demo -p ferroauth-bench
//! target/release/ferroauth-loadgen --logins 20000
//! ```
//!
//! Starts the stub provider (ferroauth-testkit, fast and auto-approve) in this process,
//! the demo (`ferroauth-demo --config <generated> --workers 2`) as a child process, then
//! per flow: warm-up logins, measured logins, and a table row with the demo's CPU time
//! per login and memory read from `/proc/<demo pid>`.
//!
//! `--floor` measures the floor app instead ([`ferroauth_bench::floor`]);
//! `--against-floor` runs both and switches between them every round
//! ([`ferroauth_bench::compare`]), for what the demo costs beyond the floor.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::Parser;
use ferroauth_bench::procstat::{self, ProcSample};
use ferroauth_bench::report::{self, Row};
use ferroauth_bench::{BenchProvider, Driver, Flow, PhaseResult, compare};

#[derive(Debug, Parser)]
#[command(about = "Login-flow load benchmark for ferroauth-demo")]
struct Args {
    /// Measured logins per flow.
    #[arg(long, default_value_t = 20_000)]
    logins: u64,
    /// Unmeasured logins per flow first (discovery, JWKS, connections, allocator).
    #[arg(long, default_value_t = 1_000)]
    warmup: u64,
    /// Logins in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Returning users: each login is one of this many browsers logging in again with the
    /// session cookie the demo last gave it (at least `--concurrency`). 0: a fresh browser
    /// for every login, so every login leaves a new session behind.
    #[arg(long, default_value_t = 0)]
    users: usize,
    /// Flows to run, in order: oidc, oauth1, api (API calls through the relay route by
    /// logged-in browsers; each counts as one "login" in the report).
    #[arg(long, value_delimiter = ',', default_value = "oidc,oauth1")]
    flows: Vec<String>,
    /// The demo's tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// The demo binary (default: `ferroauth-demo` next to this program).
    #[arg(long)]
    demo_bin: Option<PathBuf>,
    /// The demo's log filter (RUST_LOG). `info` logs every login.
    #[arg(long, default_value = "warn")]
    demo_log: String,
    /// Use the demo's embedded provider (`--auto-approve --fast`) instead of a separate
    /// one: the demo's CPU figures then include the provider's.
    #[arg(long)]
    embedded: bool,
    /// Run the floor app (`ferroauth-floor`: the demo's routes making the same calls to
    /// the provider without ferroauth, sessions or any check) instead of the demo: what a
    /// login's HTTP messages alone cost on this machine.
    #[arg(long, conflicts_with_all = ["embedded", "demo_arg", "users", "demo_bin"])]
    floor: bool,
    /// Run the demo and the floor app side by side, switching between them every round,
    /// and report what the demo costs beyond the floor (median and range of the rounds):
    /// steadier than two runs minutes apart on a machine whose speed drifts.
    #[arg(long, conflicts_with_all = ["floor", "embedded", "users", "wrapper", "rss_every"])]
    against_floor: bool,
    /// Rounds of `--against-floor` (each app gets `--logins / --rounds` per round).
    #[arg(long, default_value_t = 10, requires = "against_floor")]
    rounds: usize,
    /// Print the demo's RSS every this many measured logins (memory over a long run).
    #[arg(long)]
    rss_every: Option<u64>,
    /// An extra argument for the demo, repeatable (`--demo-arg=--session-ttl=30`,
    /// `--demo-arg=--session-store=cookie`).
    #[arg(long, allow_hyphen_values = true)]
    demo_arg: Vec<String>,
    /// Exit non-zero when any login failed.
    #[arg(long)]
    fail_on_error: bool,
    /// Run the demo under this command, split on whitespace (profiling:
    /// `--wrapper "valgrind --tool=callgrind"`).
    #[arg(long)]
    wrapper: Option<String>,
    /// Shell command run after the warm-up of each flow, with `DEMO_PID` set (profiling:
    /// `callgrind_control -z $DEMO_PID`).
    #[arg(long)]
    hook_before: Option<String>,
    /// Shell command run after the measured logins of each flow, with `DEMO_PID` set
    /// (profiling: `callgrind_control -d $DEMO_PID`).
    #[arg(long)]
    hook_after: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferroauth-loadgen: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if args.users > 0 && args.users < args.concurrency {
        eprintln!(
            "ferroauth-loadgen: --users {} is fewer than --concurrency {}: one browser would run two logins at once",
            args.users, args.concurrency
        );
        return std::process::ExitCode::FAILURE;
    }
    match runtime.block_on(run(args)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("ferroauth-loadgen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The framework, session store and lifetime the demo was given, for the report's header
/// (`--demo-arg=--framework=actix` runs the actix-web demo).
fn sessions_label(demo_args: &[String]) -> String {
    // As clap reads them: `--flag=value`, or `--flag` then `value`.
    let value = |flag: &str| {
        demo_args
            .iter()
            .enumerate()
            .find_map(|(i, a)| match a.strip_prefix(flag)? {
                "" => demo_args.get(i + 1).cloned(),
                rest => rest.strip_prefix('=').map(str::to_owned),
            })
    };
    let framework = value("--framework").unwrap_or_else(|| "axum".to_owned());
    let store = value("--session-store").unwrap_or_else(|| "memory".to_owned());
    match value("--session-ttl") {
        Some(ttl) => format!("{framework}, {store} sessions, idle expiry {ttl} s"),
        None => format!("{framework}, {store} sessions"),
    }
}

fn demo_binary(args: &Args, floor: bool) -> Result<PathBuf, String> {
    if let (Some(path), false) = (&args.demo_bin, floor) {
        return Ok(path.clone());
    }
    let (name, package) = if floor {
        ("ferroauth-floor", "ferroauth-bench")
    } else {
        ("ferroauth-demo", "ferroauth-demo")
    };
    let me = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let path = me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it (cargo build --release -p {package}) or pass --demo-bin",
            path.display()
        ))
    }
}

/// Kills the demo when the benchmark ends, however it ends.
struct DemoProcess(tokio::process::Child);

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

async fn wait_until_up(base: &str, child: &mut tokio::process::Child) -> Result<(), String> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the demo exited at start ({status})"));
        }
        if http.get(format!("{base}/")).send().await.is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the demo did not answer within 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn hook(command: Option<&str>, pid: u32) -> Result<(), String> {
    let Some(command) = command else {
        return Ok(());
    };
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("DEMO_PID", pid.to_string())
        .status()
        .await
        .map_err(|e| format!("hook {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("hook {command:?} failed ({status})"))
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores")
}

/// A started app (the demo or the floor app) with its provider and a driver for it.
struct App {
    process: DemoProcess,
    pid: u32,
    driver: Driver,
    provider: Option<BenchProvider>,
}

impl App {
    fn side(&self) -> compare::Side<'_> {
        compare::Side {
            driver: &self.driver,
            pid: self.pid,
        }
    }
}

/// Starts the demo, or the floor app when `floor`, as a child process with a provider of
/// its own (or the demo's embedded one with `--embedded`).
async fn start_app(args: &Args, floor: bool) -> Result<App, Box<dyn std::error::Error>> {
    let bin = demo_binary(args, floor)?;
    // A free port for the app: the provider's clients must know its redirect URIs.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");

    let mut command = match args.wrapper.as_deref().map(str::split_ascii_whitespace) {
        Some(mut words) => {
            let mut c = tokio::process::Command::new(words.next().ok_or("empty --wrapper")?);
            c.args(words).arg(&bin);
            c
        }
        None => tokio::process::Command::new(&bin),
    };
    command
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--workers")
        .arg(args.workers.to_string())
        .env("RUST_LOG", &args.demo_log)
        .env_remove("FERROAUTH_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    if !floor {
        command.args(&args.demo_arg);
    }
    let mut config_file = None;
    let provider = if args.embedded {
        command.arg("--auto-approve").arg("--fast");
        None
    } else {
        let provider = BenchProvider::start(&base).await?;
        let path = std::env::temp_dir().join(format!(
            "ferroauth-loadgen-{}-{port}.toml",
            std::process::id()
        ));
        std::fs::write(&path, provider.demo_settings())?;
        command.arg("--config").arg(&path);
        config_file = Some(path);
        Some(provider)
    };
    let mut process = DemoProcess(
        command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?,
    );
    let up = wait_until_up(&base, &mut process.0).await;
    if let Some(path) = &config_file {
        let _ = std::fs::remove_file(path);
    }
    up?;
    let pid = process.0.id().ok_or("the app has no process id")?;
    let driver = Driver::new(&base, provider.as_ref().map(BenchProvider::rewrite))?
        .with_returning_users(args.users);
    Ok(App {
        process,
        pid,
        driver,
        provider,
    })
}

async fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let flows: Vec<Flow> = args
        .flows
        .iter()
        .map(|f| Flow::parse(f).ok_or_else(|| format!("unknown flow {f:?} (oidc, oauth1, api)")))
        .collect::<Result<_, _>>()?;
    if args.against_floor {
        return against_floor(&args, &flows).await;
    }
    let app = start_app(&args, args.floor).await?;
    let (pid, driver, provider) = (app.pid, &app.driver, app.provider.as_ref());

    println!(
        "ferroauth-loadgen: {} | {} pid {pid}, {} worker threads, {} | provider: {} | {} logins per flow after {} warm-up, {} at a time, {}",
        machine(),
        if args.floor { "floor app" } else { "demo" },
        args.workers,
        if args.floor {
            "no ferroauth, no sessions, no checks".to_owned()
        } else {
            sessions_label(&args.demo_arg)
        },
        if args.embedded {
            "embedded in the demo (its CPU is counted as the app's)"
        } else {
            "separate process (the demo's CPU is the app's alone)"
        },
        args.logins,
        args.warmup,
        args.concurrency,
        if args.users == 0 {
            "a fresh browser for each login".to_owned()
        } else {
            format!("{} returning users", args.users)
        },
    );

    let mut rows = Vec::new();
    let mut all_ok = true;
    for flow in flows {
        let warm = driver.run(flow, args.warmup, args.concurrency).await;
        all_ok &= report_failures(flow, "warm-up", &warm);
        hook(args.hook_before.as_deref(), pid).await?;
        let counters_before = provider.map(|p| p.counters.snapshot());
        let before = procstat::sample(pid)?;
        let chunk = args.rss_every.unwrap_or(args.logins).max(1);
        let mut total = PhaseResult::default();
        let mut done = 0;
        while done < args.logins {
            let n = chunk.min(args.logins - done);
            total.add(driver.run(flow, n, args.concurrency).await);
            done += n;
            if args.rss_every.is_some() {
                let s = procstat::sample(pid)?;
                println!(
                    "  {} after {done} logins: RSS {:.1} MiB (peak {:.1} MiB)",
                    flow.label(),
                    s.rss_kib as f64 / 1024.0,
                    s.peak_rss_kib as f64 / 1024.0
                );
            }
        }
        let after: ProcSample = procstat::sample(pid)?;
        hook(args.hook_after.as_deref(), pid).await?;
        let counters = provider
            .zip(counters_before)
            .map(|(p, before)| p.counters.snapshot().since(&before));
        all_ok &= report_failures(flow, "measured", &total);
        rows.push(Row {
            flow: flow.label().to_owned(),
            logins: total.ok,
            failures: total.failures,
            rate: total.rate(),
            p50: total.percentile(50),
            p99: total.percentile(99),
            cpu_us: (after.cpu_secs - before.cpu_secs) * 1e6 / total.ok.max(1) as f64,
            sys_us: (after.sys_secs - before.sys_secs) * 1e6 / total.ok.max(1) as f64,
            peak_rss_kib: after.peak_rss_kib,
            rss_growth_kib: after.rss_kib as i64 - before.rss_kib as i64,
            provider_connections: counters.map(|c| c.back_connections),
            metadata_fetches: counters.map(|c| c.discovery + c.jwks),
        });
    }
    println!();
    print!("{}", report::table(&rows));
    drop(app.process);
    Ok(all_ok || !args.fail_on_error)
}

/// `--against-floor`: the demo and the floor app in alternating rounds.
async fn against_floor(args: &Args, flows: &[Flow]) -> Result<bool, Box<dyn std::error::Error>> {
    let demo = start_app(args, false).await?;
    let floor = start_app(args, true).await?;
    let rounds = args.rounds.max(1);
    let per_round = (args.logins / rounds as u64).max(1);
    println!(
        "ferroauth-loadgen: {} | demo pid {} and floor app pid {}, {} worker threads each, {} | {rounds} rounds of {per_round} logins per app and flow, after {} warm-up, {} at a time; CPU from /proc/<pid>/task/*/schedstat",
        machine(),
        demo.pid,
        floor.pid,
        args.workers,
        sessions_label(&args.demo_arg),
        args.warmup,
        args.concurrency,
    );
    let mut rows = Vec::new();
    let mut all_ok = true;
    for &flow in flows {
        for (app, name) in [(&demo, "demo"), (&floor, "floor app")] {
            let warm = app.driver.run(flow, args.warmup, args.concurrency).await;
            all_ok &= report_failures(flow, &format!("{name} warm-up"), &warm);
        }
        let c = compare::alternate(
            flow,
            demo.side(),
            floor.side(),
            rounds,
            per_round,
            args.concurrency,
        )
        .await?;
        all_ok &= report_failures(flow, "demo", &c.demo.logins);
        all_ok &= report_failures(flow, "floor app", &c.floor.logins);
        rows.push(report::ComparisonRow::of(flow.label(), &c));
    }
    println!();
    print!("{}", report::comparison_table(&rows));
    Ok(all_ok || !args.fail_on_error)
}

/// Prints the first failure of a batch; whether there was none.
fn report_failures(flow: Flow, what: &str, batch: &PhaseResult) -> bool {
    if batch.failures > 0 {
        eprintln!(
            "{} ({what}): {} of {} logins failed; first: {}",
            flow.label(),
            batch.failures,
            batch.ok + batch.failures,
            batch.first_error.as_deref().unwrap_or("?")
        );
    }
    batch.failures == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn sessions_label_reads_both_argument_forms() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(super::sessions_label(&[]), "axum, memory sessions");
        assert_eq!(
            super::sessions_label(&args(&["--session-store=cookie", "--session-ttl", "5"])),
            "axum, cookie sessions, idle expiry 5 s"
        );
        assert_eq!(
            super::sessions_label(&args(&[
                "--framework=actix",
                "--session-store",
                "redis://127.0.0.1:6379"
            ])),
            "actix, redis://127.0.0.1:6379 sessions"
        );
    }
}
