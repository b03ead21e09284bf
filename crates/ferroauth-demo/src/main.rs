//! `ferroauth-demo`: the demo app. See the crate docs of `ferroauth_demo` for the routes.

use std::net::SocketAddr;
use std::path::PathBuf;

use actix_web::{App, HttpServer};
use clap::Parser;
use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::StoreChoice;
use ferroauth::settings::Settings;
use ferroauth::users::Users;
use ferroauth::web::SessionConfig;
use ferroauth_actix::sessions::SessionsExt as ActixSessions;
use ferroauth_axum::sessions::SessionsExt as AxumSessions;
use ferroauth_demo::{DemoOptions, actix_app};
use ferroauth_testkit::dev;

// The allocator is the host app's choice; ferroauth sets none. Logins allocate many small,
// short-lived objects (headers, JSON, session records), where mimalloc does about 15% fewer
// instructions per login than glibc's malloc (callgrind,
// crates/ferroauth/src/guide/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The web framework the demo runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Framework {
    /// axum, through ferroauth-axum.
    Axum,
    /// actix-web, through ferroauth-actix.
    Actix,
}

/// The ferroauth demo: log in with OAuth 1.0a, OAuth 2.0 and OpenID Connect providers.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The web framework to serve the demo with: the same routes and answers on both.
    #[arg(long, value_enum, default_value = "axum", env = "FERROAUTH_FRAMEWORK")]
    framework: Framework,
    /// Settings file with `[clients.<name>]` tables (Authlib key names). Environment
    /// variables `FERROAUTH__CLIENTS__<NAME>__<KEY>` override any key.
    #[arg(long, env = "FERROAUTH_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Public base URL of the demo (e.g. behind a proxy); by default taken from the Host
    /// header.
    #[arg(long)]
    public_url: Option<String>,
    /// Worker threads: tokio's with axum, actix-web's with actix (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Development provider only: approve logins without the login page (as `login_hint`,
    /// else the first user).
    #[arg(long)]
    auto_approve: bool,
    /// Development provider only: the fast mode for benchmarks (no OAuth 1.0a signature
    /// checks).
    #[arg(long)]
    fast: bool,
    /// Where sessions live: `memory` (one instance), `cookie` (sealed cookies, no
    /// server-side state), `sqlite://FILE`, `postgres://USER@HOST:PORT/DB` or
    /// `redis://HOST:PORT`. Every instance behind a load balancer must use the same store.
    #[arg(long, env = "FERROAUTH_SESSION_STORE", default_value = "memory")]
    session_store: StoreChoice,
    /// Keys of the cookie store: `id:base64url-32-bytes`, comma-separated, the current key
    /// first; the others are still accepted for reading (rotation). Without it, cookie mode
    /// makes a random key per start (cookies then die with the process). With a server-side
    /// store, the same keys seal the users' access and refresh tokens in it (a dump of the
    /// store holds none; tokens stored in clear before are dropped: log in again).
    #[arg(long, env = "FERROAUTH_COOKIE_KEYS", hide_env_values = true, value_parser = CookieKeys::parse)]
    cookie_keys: Option<CookieKeys>,
    /// Give every cookie the `Secure` attribute: for a demo served over https by a proxy
    /// in front of it. On by itself when `--public-url` is https.
    #[arg(long)]
    secure_cookies: bool,
    /// Development provider only: serve it on its own address (e.g. `127.0.0.1:9000`)
    /// instead of under the demo's `/idp`, so that it is another site than the demo, as
    /// every real provider is (open the demo at `http://localhost:PORT` then). With
    /// `--framework actix` the provider always has its own address: this one, or a free
    /// port on the demo's host.
    #[arg(long)]
    dev_provider_listen: Option<SocketAddr>,
    /// Seconds an unused server-side session lives (default 8 hours).
    #[arg(long)]
    session_ttl: Option<u32>,
    /// Serve ferroauth's metrics (logins, refreshes, provider calls) at `/metrics` in the
    /// Prometheus text format.
    #[arg(long, env = "FERROAUTH_METRICS")]
    metrics: bool,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log file or collector gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = args.workers {
        runtime.worker_threads(workers.max(1));
    }
    let runtime = runtime.enable_all().build().map_err(Into::into);
    let result = runtime.and_then(|rt| rt.block_on(run(args)));
    if let Err(e) = result {
        eprintln!("ferroauth-demo: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let mut settings = match &args.config {
        Some(path) => Settings::from_file(path)?,
        None => Settings::from_env()?,
    };
    let mut options = DemoOptions::default();
    options.redirect_uri.public_base_url = args.public_url.clone();
    let https = args
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https:"));
    let mut sessions = SessionConfig::new().secure(args.secure_cookies || https);
    if let Some(keys) = args.cookie_keys.clone() {
        sessions = sessions.keys(keys);
    }
    if let Some(secs) = args.session_ttl {
        sessions = sessions.inactivity(time::Duration::seconds(secs.max(1).into()));
    }
    options.sessions = sessions;
    if args.metrics {
        let installed = ferroauth_demo::install_metrics();
        options.metrics =
            Some(installed.ok_or("--metrics: another metrics recorder is installed")?);
    }
    // Nothing configured: the zero-setup mode with the embedded development provider, on
    // its own address or under /idp. An actix app cannot mount the provider's axum router:
    // it gets a port of its own.
    let own = match (args.dev_provider_listen, args.framework) {
        (None, Framework::Actix) => Some(SocketAddr::new(addr.ip(), 0)),
        (own, _) => own,
    };
    let dev = match settings.clients.is_empty() && args.config.is_none() {
        true => Some(dev::Embedded::start(&base, own, args.auto_approve, args.fast).await?),
        false => None,
    };
    if let Some(dev) = &dev {
        settings = Settings::from_toml_str(&dev.settings)?;
        options.api_paths = dev.api_paths.clone();
        let idp = &dev.base;
        println!("development provider at {idp}/idp (users: alice, bob)");
    }
    let oauth = OAuth::from_settings(&settings)?;
    let choice = &args.session_store;
    oauth.set_users(Users::shared(choice.open_user_store().await?));
    // Tests and tools read the address from this line: keep its start stable.
    println!(
        "ferroauth demo: open {base}/ (providers: {}; sessions: {}; framework: {:?})",
        oauth.names().join(", "),
        choice.describe(),
        args.framework
    );
    if args.framework == Framework::Axum {
        let sessions = options.sessions.clone();
        let app = ferroauth_demo::routes(options).with_state(oauth);
        let mut app = AxumSessions::apply_store(&sessions, app, choice).await?;
        if let Some(dev) = dev {
            app = dev.nest_into(app);
        }
        let stop = async { drop(tokio::signal::ctrl_c().await) };
        return Ok(axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await?);
    }
    let sessions = ActixSessions::apply_store(&options.sessions, choice).await?;
    let app = actix_app::app(oauth, options);
    let listener = listener.into_std()?;
    // actix-web runs its own runtime: on a thread of its own, while this one keeps serving
    // the development provider.
    let server = move || {
        actix_web::rt::System::new().block_on(async move {
            let new_app = move || {
                App::new()
                    .configure(app.clone())
                    .wrap(sessions.middleware())
            };
            let server = HttpServer::new(new_app).listen(listener)?;
            match args.workers {
                Some(workers) => server.workers(workers.max(1)).run().await,
                None => server.run().await,
            }
        })
    };
    Ok(tokio::task::spawn_blocking(server).await??)
}
