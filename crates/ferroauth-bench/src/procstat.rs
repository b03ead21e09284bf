//! CPU time and memory of a process, from `/proc` (Linux).

use std::io;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// User plus system CPU time of all its threads, in seconds.
    pub cpu_secs: f64,
    /// Of which system (kernel) time, in seconds.
    pub sys_secs: f64,
    /// Resident set size now, KiB.
    pub rss_kib: u64,
    /// Peak resident set size, KiB.
    pub peak_rss_kib: u64,
}

/// The unit of the times in `/proc/<pid>/stat`. Linux reports them in `USER_HZ`, which is
/// 100 on every architecture Rust targets.
const USER_HZ: f64 = 100.0;

/// Reads `/proc/<pid>/stat` and `/proc/<pid>/status`.
pub fn sample(pid: u32) -> io::Result<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let (user, sys) = cpu_ticks(&stat)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unreadable /proc stat"))?;
    Ok(ProcSample {
        cpu_secs: (user + sys) as f64 / USER_HZ,
        sys_secs: sys as f64 / USER_HZ,
        rss_kib: status_kib(&status, "VmRSS:").unwrap_or(0),
        peak_rss_kib: status_kib(&status, "VmHWM:").unwrap_or(0),
    })
}

/// CPU time of each of a process's threads, in nanoseconds, from
/// `/proc/<pid>/task/<tid>/schedstat`. Exact, where `/proc/<pid>/stat` counts in ticks of
/// 10 ms: short batches of logins need it. Differences are taken per thread (see
/// [`ThreadTimes::since`]) because a thread that exits takes its time with it.
pub fn thread_times(pid: u32) -> io::Result<ThreadTimes> {
    let mut times = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let entry = entry?;
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // A thread may exit between the listing and the read.
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        if let Some(ns) = text
            .split_ascii_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
        {
            times.insert(tid, ns);
        }
    }
    Ok(ThreadTimes(times))
}

/// CPU nanoseconds by thread id: see [`thread_times`].
#[derive(Debug, Clone, Default)]
pub struct ThreadTimes(std::collections::BTreeMap<u32, u64>);

impl ThreadTimes {
    /// CPU nanoseconds spent since `earlier` by the threads alive at both readings, and by
    /// those started in between.
    pub fn since(&self, earlier: &Self) -> u64 {
        self.0
            .iter()
            .map(|(tid, ns)| ns.saturating_sub(earlier.0.get(tid).copied().unwrap_or(0)))
            .sum()
    }
}

/// `(utime, stime)` from a `/proc/<pid>/stat` line. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted from the last `)`.
fn cpu_ticks(stat: &str) -> Option<(u64, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "4242 (ferroauth (demo)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 4 0 1000 123456 789 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some((250, 75)));
        let status = "Name:\tdemo\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(status_kib(status, "VmHWM:"), Some(20480));
    }

    #[test]
    fn reads_this_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_kib > 0 && s.peak_rss_kib >= s.rss_kib);
    }

    #[test]
    fn thread_times_count_work_done_in_between() {
        let before = thread_times(std::process::id()).unwrap();
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let spent = thread_times(std::process::id()).unwrap().since(&before);
        // The loop ran on this thread for 30 ms of wall time; allow for being descheduled.
        assert!(spent >= 10_000_000, "{spent} ns");
    }

    #[test]
    fn an_exited_thread_does_not_make_the_difference_negative() {
        let earlier = ThreadTimes([(1, 500), (2, 900)].into());
        let later = ThreadTimes([(1, 800), (3, 100)].into());
        assert_eq!(later.since(&earlier), 300 + 100);
    }
}
