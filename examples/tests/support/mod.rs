//! Runs an example's binary (built by `cargo test` beside this test's binary) in an empty
//! folder, so that it starts the development provider, and stops it when dropped.

// Each test file uses some of these helpers, not all.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running example.
pub struct Example {
    child: Child,
    base: String,
    output: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Example {
    /// Starts a serving example on a free port and waits until it listens.
    pub async fn serve(name: &str) -> Example {
        Example::serve_on(name, free_port(), &[], &[]).await
    }

    /// Starts a serving example on `port` (a restart reuses the port of a stopped run)
    /// with `env` besides `LISTEN` and with `args`, and waits until it listens.
    pub async fn serve_on(name: &str, port: u16, env: &[(&str, String)], args: &[&str]) -> Example {
        let mut all = vec![("LISTEN", format!("127.0.0.1:{port}"))];
        all.extend(env.iter().cloned());
        let example = Example::spawn(name, &all, args);
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Example { base, ..example };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{name} did not listen on {port}: {}", example.output());
    }

    /// Starts an example with `env` and `args`; its output is collected.
    pub fn spawn(name: &str, env: &[(&str, String)], args: &[&str]) -> Example {
        // An empty folder: no ferroauth.toml in it.
        let dir = tempfile::tempdir().expect("a scratch folder");
        let mut child = Command::new(binary(name))
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start example {name}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut out = output.lock().unwrap();
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        Example {
            child,
            base: String::new(),
            output,
            _dir: dir,
        }
    }

    /// `path` on the example's server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the example printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the example printed a line containing `needle`, and returns that line.
    pub async fn line_with(&self, needle: &str) -> String {
        for _ in 0..600 {
            if let Some(line) = self.output().lines().find(|l| l.contains(needle)) {
                return line.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no line with {needle:?} in: {}", self.output());
    }

    /// Waits for the example to exit and returns its status and output.
    pub async fn finish(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the example ends within 60 s")
            .expect("wait for the example");
        // Let the readers drain what is left.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status, self.output())
    }
}

/// `target/<profile>/examples/<name>`: this test runs from `target/<profile>/deps`.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test -p ferroauth-examples` builds the examples",
        path.display()
    );
    path
}

/// A port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Example {
    /// Kills the example and waits until it is gone (its port is free again).
    pub async fn stop(mut self) -> String {
        let _ = self.child.kill().await;
        self.output()
    }
}
