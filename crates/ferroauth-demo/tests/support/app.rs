//! App binaries (the demo, the quick start) as child processes.

use std::time::{Duration, Instant};

/// An app binary as a child process (output to a log file); killed on drop.
pub struct ChildApp {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl ChildApp {
    /// Starts `program` in `dir` and waits until it listens on `port`.
    pub async fn spawn(
        program: &str,
        args: &[&str],
        dir: &std::path::Path,
        env: &[(&str, String)],
        port: u16,
    ) -> ChildApp {
        let log = dir.join("app.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("FERROAUTH_CONFIG")
            .stdin(std::process::Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let mut app = ChildApp { child, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = app.child.try_wait() {
                panic!("{program} exited with {status}: {}", app.log());
            }
            assert!(
                Instant::now() < deadline,
                "{program} never listened: {}",
                app.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        app
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChildApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
