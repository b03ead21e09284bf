//! The benchmark's table.

use std::fmt::Write as _;
use std::time::Duration;

/// One measured batch of logins of one flow.
#[derive(Debug, Clone)]
pub struct Row {
    /// The flow's label.
    pub flow: String,
    /// Completed logins.
    pub logins: u64,
    /// Failed logins.
    pub failures: u64,
    /// Logins per second.
    pub rate: f64,
    /// Median login latency.
    pub p50: Duration,
    /// 99th percentile login latency.
    pub p99: Duration,
    /// The demo's CPU time per login, µs.
    pub cpu_us: f64,
    /// Of which in the kernel, µs.
    pub sys_us: f64,
    /// The demo's peak RSS at the end of the batch, KiB.
    pub peak_rss_kib: u64,
    /// How much the demo's RSS grew over the batch, KiB.
    pub rss_growth_kib: i64,
    /// Connections the demo opened to the provider during the batch.
    pub provider_connections: Option<u64>,
    /// Discovery and JWKS fetches during the batch.
    pub metadata_fetches: Option<u64>,
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

/// A Markdown table of the rows.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| flow | logins | failures | logins/s | p50 ms | p99 ms | app CPU µs/login (kernel) | peak RSS MiB | RSS growth KiB/1k logins | new provider connections | discovery + JWKS fetches |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let growth = if r.logins == 0 {
            0.0
        } else {
            r.rss_growth_kib as f64 * 1000.0 / r.logins as f64
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {} | {} | {:.0} ({:.0}) | {:.1} | {:.0} | {} | {} |",
            r.flow,
            r.logins,
            r.failures,
            r.rate,
            ms(r.p50),
            ms(r.p99),
            r.cpu_us,
            r.sys_us,
            r.peak_rss_kib as f64 / 1024.0,
            growth,
            opt(r.provider_connections),
            opt(r.metadata_fetches),
        );
    }
    out
}

/// One flow of `--against-floor`.
#[derive(Debug, Clone)]
pub struct ComparisonRow {
    /// The flow's label.
    pub flow: String,
    /// Completed logins, demo and floor app.
    pub logins: (u64, u64),
    /// Failed logins, demo and floor app.
    pub failures: (u64, u64),
    /// CPU µs per login over all rounds, demo and floor app.
    pub cpu_us: (f64, f64),
    /// The per-round differences: median, smallest, largest (µs per login).
    pub difference_us: (f64, f64, f64),
    /// Rounds.
    pub rounds: usize,
}

impl ComparisonRow {
    /// The row of a comparison.
    pub fn of(flow: &str, c: &crate::compare::Comparison) -> Self {
        let (min, max) = c.difference_range_us();
        Self {
            flow: flow.to_owned(),
            logins: (c.demo.logins.ok, c.floor.logins.ok),
            failures: (c.demo.logins.failures, c.floor.logins.failures),
            cpu_us: (c.demo.cpu_us_per_login(), c.floor.cpu_us_per_login()),
            difference_us: (c.median_difference_us(), min, max),
            rounds: c.round_differences_us.len(),
        }
    }
}

/// A Markdown table of `--against-floor` rows.
pub fn comparison_table(rows: &[ComparisonRow]) -> String {
    let mut out = String::new();
    out.push_str("| flow | logins (demo / floor) | failures | demo CPU µs/login | floor CPU µs/login | demo − floor µs/login: median of rounds (range) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} / {} | {} | {:.1} | {:.1} | {:.1} ({:.1} to {:.1}, {} rounds) |",
            r.flow,
            r.logins.0,
            r.logins.1,
            r.failures.0 + r.failures.1,
            r.cpu_us.0,
            r.cpu_us.1,
            r.difference_us.0,
            r.difference_us.1,
            r.difference_us.2,
            r.rounds,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_row() {
        let t = table(&[Row {
            flow: "OpenID Connect".into(),
            logins: 2000,
            failures: 0,
            rate: 1234.4,
            p50: Duration::from_micros(1500),
            p99: Duration::from_micros(4250),
            cpu_us: 98.6,
            sys_us: 40.2,
            peak_rss_kib: 20 * 1024,
            rss_growth_kib: 4000,
            provider_connections: Some(0),
            metadata_fetches: None,
        }]);
        assert!(t.contains(
            "| OpenID Connect | 2000 | 0 | 1234 | 1.50 | 4.25 | 99 (40) | 20.0 | 2000 | 0 | – |"
        ));
    }
}
