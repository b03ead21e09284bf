//! The demo against the floor app, in alternating rounds.
//!
//! CPU time per login on a shared or virtual machine drifts by more than the differences
//! worth measuring (10–20 µs between runs minutes apart, here). Running the demo and the
//! floor app ([`crate::floor`]) side by side and switching between them every round makes
//! both see the same conditions; the per-round differences then show what the demo's own
//! work costs, and their spread how far to trust it. Rounds go demo-floor, floor-demo,
//! ... so that a steady drift does not favour either.

use std::io;

use crate::procstat;
use crate::{Driver, Flow, PhaseResult};

/// One app in the comparison: the driver that logs in to it and its process.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// Logs in to this app.
    pub driver: &'a Driver,
    /// The app's process, for its CPU time.
    pub pid: u32,
}

/// What one app did over all rounds.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// The logins, latencies and failures of all rounds.
    pub logins: PhaseResult,
    /// The app's CPU time over the rounds, in nanoseconds.
    pub cpu_ns: u64,
}

impl Totals {
    /// CPU µs per completed login.
    pub fn cpu_us_per_login(&self) -> f64 {
        self.cpu_ns as f64 / 1e3 / self.logins.ok.max(1) as f64
    }
}

/// The outcome of [`alternate`].
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// The demo's totals.
    pub demo: Totals,
    /// The floor app's totals.
    pub floor: Totals,
    /// For each round, the demo's CPU µs per login minus the floor's.
    pub round_differences_us: Vec<f64>,
}

impl Comparison {
    /// The median of the per-round differences (µs per login).
    pub fn median_difference_us(&self) -> f64 {
        let mut d = self.round_differences_us.clone();
        d.sort_by(f64::total_cmp);
        match d.len() {
            0 => 0.0,
            n if n % 2 == 1 => d[n / 2],
            n => (d[n / 2 - 1] + d[n / 2]) / 2.0,
        }
    }

    /// The smallest and largest per-round difference.
    pub fn difference_range_us(&self) -> (f64, f64) {
        let min = self
            .round_differences_us
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let max = self
            .round_differences_us
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        if min.is_finite() {
            (min, max)
        } else {
            (0.0, 0.0)
        }
    }
}

/// Runs `rounds` rounds of `logins_per_round` logins of `flow` on each side, switching
/// sides every round, and reads each app's CPU time around each of its batches.
pub async fn alternate(
    flow: Flow,
    demo: Side<'_>,
    floor: Side<'_>,
    rounds: usize,
    logins_per_round: u64,
    concurrency: usize,
) -> io::Result<Comparison> {
    let mut out = Comparison::default();
    for round in 0..rounds {
        let mut per_login = [0.0; 2];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let (side, totals) = if which == 0 {
                (demo, &mut out.demo)
            } else {
                (floor, &mut out.floor)
            };
            let before = procstat::thread_times(side.pid)?;
            let batch = side.driver.run(flow, logins_per_round, concurrency).await;
            let spent = procstat::thread_times(side.pid)?.since(&before);
            per_login[which] = spent as f64 / 1e3 / batch.ok.max(1) as f64;
            totals.cpu_ns += spent;
            totals.logins.add(batch);
        }
        out.round_differences_us.push(per_login[0] - per_login[1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range_of_the_differences() {
        let c = |d: &[f64]| Comparison {
            round_differences_us: d.to_vec(),
            ..Comparison::default()
        };
        assert_eq!(c(&[3.0, 1.0, 2.0]).median_difference_us(), 2.0);
        assert_eq!(c(&[4.0, 1.0, 2.0, 3.0]).median_difference_us(), 2.5);
        assert_eq!(c(&[4.0, -1.0, 2.0]).difference_range_us(), (-1.0, 4.0));
        assert_eq!(c(&[]).median_difference_us(), 0.0);
        assert_eq!(c(&[]).difference_range_us(), (0.0, 0.0));
    }
}
