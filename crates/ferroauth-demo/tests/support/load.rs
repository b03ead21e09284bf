//! The load test: the demo binary as a child process in zero-setup mode (embedded testkit
//! provider, `--auto-approve --fast`), driven by a bounded loop of logins on loopback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::harness::{self, Tally};

/// The demo binary running; killed on drop.
pub struct DemoProcess {
    pub base: String,
    child: Child,
}

impl DemoProcess {
    /// Starts `bin --listen 127.0.0.1:0 --auto-approve --fast` plus `extra` (zero-setup
    /// mode), and waits for the line that gives its address.
    pub fn spawn(bin: &Path, extra: &[&str]) -> DemoProcess {
        let mut args = vec!["--listen", "127.0.0.1:0", "--auto-approve", "--fast"];
        args.extend_from_slice(extra);
        Self::spawn_args(bin, &args)
    }

    /// Starts `bin` with exactly these arguments.
    pub fn spawn_args(bin: &Path, args: &[&str]) -> DemoProcess {
        let mut child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("the demo exited before printing its address");
            };
            if let Some(rest) = line.strip_prefix("ferroauth demo: open ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('/')
                    .to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        DemoProcess { base, child }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of /proc/PID/status in KiB (`VmHWM` = peak resident memory).
    pub fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find(|l| l.starts_with(field))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

impl Drop for DemoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a load run measured.
#[derive(Debug)]
pub struct Report {
    pub logins: usize,
    pub in_flight: usize,
    pub tally: Tally,
    pub elapsed: Duration,
    pub peak_rss_kib: Option<u64>,
    pub rss_kib: Option<u64>,
}

impl Report {
    pub fn logins_per_second(&self) -> f64 {
        self.tally.ok as f64 / self.elapsed.as_secs_f64()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} logins, {} in flight: {} ok, {} failed, {} mix-ups in {:.2} s = {:.0} logins/s; demo peak RSS {} MiB (now {} MiB)",
            self.logins,
            self.in_flight,
            self.tally.ok,
            self.tally.failures.len(),
            self.tally.mixups,
            self.elapsed.as_secs_f64(),
            self.logins_per_second(),
            self.peak_rss_kib
                .map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            self.rss_kib
                .map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        )
    }
}

/// `logins` logins against `demo`, `in_flight` at a time, alternating the development
/// provider's users (alice, bob); each login is a fresh browser.
pub async fn run(demo: &DemoProcess, logins: usize, in_flight: usize) -> Report {
    let http = harness::http();
    let users = ["alice".to_owned(), "bob".to_owned()];
    let started = Instant::now();
    let tally = harness::run_logins(
        &http,
        std::slice::from_ref(&demo.base),
        std::slice::from_ref(&demo.base),
        logins,
        in_flight,
        &users,
    )
    .await;
    let elapsed = started.elapsed();
    Report {
        logins,
        in_flight,
        tally,
        elapsed,
        peak_rss_kib: demo.status_kib("VmHWM:"),
        rss_kib: demo.status_kib("VmRSS:"),
    }
}
