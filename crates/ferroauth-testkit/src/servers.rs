//! Session-store servers for tests: a real redis-server and a real PostgreSQL, each on a
//! free loopback port in a temporary directory, stopped on drop. A missing server binary
//! fails the test loudly (never a skip), naming scripts/setup-peers; in CI (`CI` set) the
//! binaries must be named by `FERROAUTH_REDIS_SERVER` and `FERROAUTH_PG_BIN`, so that a
//! runner without them fails instead of finding something else on its path.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start before the test fails.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn missing(what: &str, err: impl std::fmt::Display) -> ! {
    panic!("{what} is not available ({err}): run scripts/setup-peers (scripts/test does)")
}

/// The value of the environment variable `var` naming a server binary. Outside CI, `None`
/// lets the caller look in the usual places; in CI (`CI` set) its absence fails the test.
fn named_by(var: &str) -> Option<std::ffi::OsString> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(value) => Some(value),
        None if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set: CI must name the server binary the store tests start")
        }
        None => None,
    }
}

/// A redis-server child process.
pub struct Redis {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Redis {
    /// Starts a redis-server (`FERROAUTH_REDIS_SERVER`, else `redis-server` on PATH).
    pub fn start() -> Redis {
        let mut redis = Redis {
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        redis.restart();
        redis
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (the port stays reserved for [`Redis::restart`] in practice: no
    /// one else binds it in a test run).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server as a conformance suite's breaker
    /// ([`Target::breaker`](crate::store_conformance::Target::breaker)): stopped when the
    /// store must fail, started again for the recovery.
    pub fn into_breaker(mut self) -> Box<dyn FnMut(bool) + Send> {
        Box::new(move |down: bool| match down {
            true => self.stop(),
            false => self.restart(),
        })
    }

    /// Starts the server again on the same port (after [`Redis::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        let program = named_by("FERROAUTH_REDIS_SERVER")
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|| "redis-server".into());
        let log = self.dir.path().join("redis.log");
        let child = Command::new(&program)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| missing(&program, e));
        self.child = Some(child);
        let started = Instant::now();
        loop {
            if redis_ping(self.port) {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || started.elapsed() > START_DEADLINE {
                panic!(
                    "redis-server did not start on port {}: {}",
                    self.port,
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn redis_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(stream.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A PostgreSQL cluster of its own, started with `pg_ctl`.
pub struct Postgres {
    /// Its port on 127.0.0.1.
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    as_postgres: bool,
}

impl Postgres {
    /// initdb + pg_ctl start, as the `postgres` user when running as root (PostgreSQL
    /// refuses to run as root). Binaries from `FERROAUTH_PG_BIN`, else
    /// `/usr/lib/postgresql/<newest>/bin`, else `pg_config --bindir`.
    pub fn start() -> Postgres {
        let bin = pg_bin_dir();
        let dir = tempfile::tempdir().expect("temp dir");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the PostgreSQL temp dir failed");
        }
        let pg = Postgres {
            port: free_port(),
            bin,
            dir,
            as_postgres,
        };
        let data = pg.dir.path().join("data");
        pg.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
            ],
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200",
            pg.port,
            pg.dir.path().display()
        );
        let log = pg.dir.path().join("postgres.log");
        pg.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "30".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        );
        pg
    }

    /// Restarts the server (`pg_ctl restart -m fast`): every client connection is closed,
    /// the data stays.
    pub fn restart(&self) {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "restart".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "30".as_ref(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
            ],
        );
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The rows `sql` selects, as `psql -At` prints them (one line per row, `|` between
    /// columns): what a dump of the database holds.
    pub fn query(&self, sql: &str) -> String {
        let port = self.port.to_string();
        let output = self
            .command("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(Stdio::null())
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| missing("psql", e));
        assert!(
            output.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| missing(program, e));
        if !output.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
            panic!(
                "{program} failed: {}\n{}\n{log}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_bin_dir() -> PathBuf {
    // `named_by` first: in CI an unset variable fails the test instead of a guess.
    if let Some(dir) = named_by("FERROAUTH_PG_BIN") {
        return PathBuf::from(dir);
    }
    crate::services::postgres_bin().unwrap_or_else(|| {
        missing(
            "PostgreSQL (initdb, pg_ctl)",
            "none under /usr/lib/postgresql and no pg_config",
        )
    })
}

/// A SQLite database file in a directory of its own, removed on drop.
#[derive(Debug)]
pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    /// A fresh directory for the database (the store creates the file).
    pub fn temp() -> Sqlite {
        Sqlite {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// `sqlite://PATH` of the database.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("sessions.db").display())
    }
}
