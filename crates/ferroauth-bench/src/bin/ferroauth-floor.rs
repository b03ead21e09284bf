//! `ferroauth-floor`: the floor app of [`ferroauth_bench::floor`] as a process, for
//! `ferroauth-loadgen --floor`. It takes the demo's `--listen`, `--workers` and `--config`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use ferroauth::settings::Settings;

// The demo's default allocator, so that the floor and the demo compare.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A login's HTTP messages without ferroauth: for measuring only, it checks nothing.
#[derive(Debug, Parser)]
struct Args {
    /// The demo's settings file (from the benchmark's provider).
    #[arg(long)]
    config: PathBuf,
    /// Address to listen on.
    #[arg(long)]
    listen: SocketAddr,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    workers: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.workers.max(1))
        .enable_all()
        .build();
    let result = runtime
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(serve(args)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferroauth-floor: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let settings = Settings::from_file(&args.config).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("{}: {e}", args.listen))?;
    let app = ferroauth_bench::floor::router(&settings, &format!("http://{}", args.listen)).await?;
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
