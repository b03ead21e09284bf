//! The outside programs some tests need, and what a test does when one is missing.
//!
//! Most of ferroauth's tests need nothing but Rust. A few start real servers: Redis and
//! PostgreSQL for the session and user stores, panva's oidc-provider (Node) and an Authlib
//! provider (Python) for interoperability, Chromium for the browser tests. On a machine
//! without them, `cargo test` should still pass and say, in one line per test, what it did
//! not run; on CI, where `scripts/test` installs them all, a missing one must fail instead,
//! or a broken setup would pass as a run of skipped tests.
//!
//! So a test that needs a service starts with
//!
//! ```
//! use ferroauth_testkit::services::{Service, skip_without};
//!
//! # fn a_test() {
//! if skip_without(&[Service::Redis]) {
//!     return;
//! }
//! // ... start Redis and test against it
//! # }
//! ```
//!
//! [`skip_without`] prints `skipped (needs Redis: ...)` with the test's name and returns
//! `true` when a service is missing, unless `FERROAUTH_REQUIRE_SERVICES=1` is set (as
//! `scripts/test` sets it), in which case it panics with the same line.
//!
//! Where each one is looked for, in order:
//!
//! | service | where |
//! |---|---|
//! | [`Service::Redis`] | `FERROAUTH_REDIS_SERVER`, else `redis-server` on `PATH` |
//! | [`Service::Postgres`] | `initdb` in `FERROAUTH_PG_BIN`, else in the newest `/usr/lib/postgresql/<version>/bin`, else `pg_config --bindir` |
//! | [`Service::OidcProvider`] | `node` (`FERROAUTH_NODE`, else on `PATH`) and `interop/oidc-provider/node_modules` |
//! | [`Service::Authlib`] | the Python of `FERROAUTH_PYTHON`, else `interop/.venv/bin/python` |
//! | [`Service::Chromium`] | `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's packages) |
//!
//! `interop/` is `FERROAUTH_INTEROP_DIR`, else the repository's. `scripts/setup-peers` and
//! `scripts/setup-browser` install them all on Debian.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Debian's Chromium, which the browser tests drive.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The variable that turns a missing service from a skip into a failure.
pub const REQUIRE_VAR: &str = "FERROAUTH_REQUIRE_SERVICES";

/// An outside program a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `redis-server`.
    Redis,
    /// PostgreSQL's `initdb` and `pg_ctl`.
    Postgres,
    /// Node with panva's oidc-provider installed under `interop/oidc-provider`.
    OidcProvider,
    /// The interop virtualenv's Python, with Authlib.
    Authlib,
    /// Chromium and chromedriver.
    Chromium,
}

impl Service {
    /// The service's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Service::Redis => "Redis",
            Service::Postgres => "PostgreSQL",
            Service::OidcProvider => "Node and oidc-provider",
            Service::Authlib => "Python and Authlib",
            Service::Chromium => "Chromium and chromedriver",
        }
    }

    /// Why the service is not usable here, or `None` when it is.
    pub fn missing(self) -> Option<String> {
        match self {
            Service::Redis => {
                let program = env_or("FERROAUTH_REDIS_SERVER", "redis-server");
                runs(&program, "--version")
            }
            Service::Postgres => match postgres_bin() {
                Some(bin) if bin.join("initdb").exists() && bin.join("pg_ctl").exists() => None,
                Some(bin) => Some(format!("no initdb and pg_ctl in {}", bin.display())),
                None => Some("no PostgreSQL binaries (initdb, pg_ctl) found".into()),
            },
            Service::OidcProvider => {
                let modules = interop_dir().join("oidc-provider/node_modules");
                if !modules.exists() {
                    return Some(format!("{} is not installed", modules.display()));
                }
                runs(&env_or("FERROAUTH_NODE", "node"), "--version")
            }
            Service::Authlib => {
                let python = authlib_python();
                match python.exists() {
                    true => None,
                    false => Some(format!("{} does not exist", python.display())),
                }
            }
            Service::Chromium => [CHROMIUM, CHROMEDRIVER]
                .into_iter()
                .find(|p| !Path::new(p).exists())
                .map(|p| format!("{p} does not exist")),
        }
    }
}

/// Whether the calling test should stop here because one of `needs` is missing. Prints
/// one line naming the test and what it lacks; with `FERROAUTH_REQUIRE_SERVICES=1`, panics
/// with that line instead.
pub fn skip_without(needs: &[Service]) -> bool {
    let Some((service, why)) = needs.iter().find_map(|s| Some((*s, s.missing()?))) else {
        return false;
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!(
        "skipped {test} (needs {}: {why}); scripts/setup-peers and scripts/setup-browser install it",
        service.name()
    );
    if required() {
        panic!("{line} — and {REQUIRE_VAR} is set, so a missing service fails the test");
    }
    eprintln!("{line}");
    true
}

/// Whether missing services fail tests (`FERROAUTH_REQUIRE_SERVICES=1`, or `true`).
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
}

/// The interop folder: `FERROAUTH_INTEROP_DIR`, else the repository's `interop/`.
pub fn interop_dir() -> PathBuf {
    std::env::var_os("FERROAUTH_INTEROP_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop"))
}

/// The interop virtualenv's Python: `FERROAUTH_PYTHON`, else `interop/.venv/bin/python`.
pub fn authlib_python() -> PathBuf {
    std::env::var_os("FERROAUTH_PYTHON")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| interop_dir().join(".venv/bin/python"))
}

/// PostgreSQL's binary directory, looked for as the table in the module docs says.
pub fn postgres_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FERROAUTH_PG_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max();
    if let Some((_, bin)) = newest {
        return Some(bin);
    }
    let output = Command::new("pg_config").arg("--bindir").output().ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

fn env_or(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `None` when `program arg` runs and exits 0.
fn runs(program: &str, arg: &str) -> Option<String> {
    match Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => None,
        Ok(status) => Some(format!("`{program} {arg}` exited with {status}")),
        Err(e) => Some(format!("{program}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_is_not_there_is_missing() {
        let why = runs("/nonexistent/ferroauth-no-such-program", "--version").unwrap();
        assert!(why.contains("ferroauth-no-such-program"), "{why}");
        assert_eq!(runs("true", "--version"), None);
    }

    #[test]
    fn nothing_needed_never_skips() {
        assert!(!skip_without(&[]));
    }
}
