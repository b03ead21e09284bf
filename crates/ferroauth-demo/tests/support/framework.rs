//! The web framework a test runs the demo on: one test body, run once per framework
//! ([`on_both!`](crate::on_both)).

use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;
use ferroauth::session::store::OpenStore;
use ferroauth_actix::sessions::SessionsExt as _;
use ferroauth_actix::stores::{Store, StoreSessions};
use ferroauth_axum::sessions::SessionsExt as AxumSessions;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use ferroauth_demo::actix_app;
use tower_sessions::SessionStore;

/// The demo's framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    Axum,
    Actix,
}

/// Runs each listed `async fn name(framework: Framework)` as two tests, `name::axum` and
/// `name::actix`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn axum() {
                super::$name($crate::support::Framework::Axum).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn actix() {
                super::$name($crate::support::Framework::Actix).await
            }
        }
    )*};
}

/// A demo being served; stopped on drop.
pub enum Running {
    Axum(tokio::task::JoinHandle<()>),
    Actix(actix_web::dev::ServerHandle),
}

impl Drop for Running {
    fn drop(&mut self) {
        match self {
            Running::Axum(task) => task.abort(),
            // Sends the stop command at once; nothing to wait for.
            Running::Actix(handle) => drop(handle.stop(false)),
        }
    }
}

/// The actix session key the instances of one test share (so that a cookie of one opens
/// on the other), derived from a fixed test secret.
pub fn shared_actix_key() -> actix_web::cookie::Key {
    actix_web::cookie::Key::derive_from(&[7u8; 32])
}

/// The axum demo over a session store of the test's own.
pub fn axum_with_store<S: SessionStore + Clone>(
    oauth: OAuth,
    options: DemoOptions,
    store: S,
) -> axum::Router {
    let sessions = options.sessions.clone();
    sessions
        .apply(ferroauth_demo::routes(options), store)
        .with_state(oauth)
}

/// The axum demo over the session store `choice` names, as the binary builds it.
pub async fn axum_for(oauth: OAuth, options: DemoOptions, choice: &StoreChoice) -> axum::Router {
    let sessions = options.sessions.clone();
    let app = ferroauth_demo::routes(options).with_state(oauth);
    AxumSessions::apply_store(&sessions, app, choice)
        .await
        .expect("the session store opens")
}

impl Running {
    /// An axum router, served.
    pub fn axum(listener: tokio::net::TcpListener, app: axum::Router) -> Running {
        Running::Axum(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }))
    }

    /// The actix demo, served on its own thread, its sessions in `store` under the
    /// instances' [`shared_actix_key`].
    pub fn actix(
        listener: tokio::net::TcpListener,
        oauth: OAuth,
        options: DemoOptions,
        store: Store,
    ) -> Running {
        let listener = listener.into_std().unwrap();
        let sessions = options.sessions.for_store(store, shared_actix_key());
        Running::Actix(spawn_actix(
            Listen::Plain(listener),
            oauth,
            options,
            sessions,
        ))
    }

    /// The demo with in-memory sessions.
    pub fn memory(
        framework: Framework,
        listener: tokio::net::TcpListener,
        oauth: OAuth,
        options: DemoOptions,
    ) -> Running {
        match framework {
            Framework::Axum => {
                let sessions = options.sessions.clone();
                let store = OpenStore::Memory(ferroauth::session::memory::MemoryStore::new());
                let app = ferroauth_demo::routes(options).with_state(oauth);
                Running::axum(listener, AxumSessions::apply_open(&sessions, app, store))
            }
            Framework::Actix => {
                let store = Store::Memory(Default::default());
                Running::actix(listener, oauth, options, store)
            }
        }
    }

    /// The demo with the sessions `choice` names, under `keys` when given (the cookie
    /// store seals under them, a server-side store seals the tokens, as the demo's
    /// `--cookie-keys` does).
    pub async fn with_store(
        framework: Framework,
        listener: tokio::net::TcpListener,
        oauth: OAuth,
        mut options: DemoOptions,
        choice: &StoreChoice,
        keys: Option<&str>,
    ) -> Running {
        if let Some(keys) = keys {
            options.sessions = options.sessions.keys(CookieKeys::parse(keys).unwrap());
        }
        match framework {
            Framework::Axum => Running::axum(listener, axum_for(oauth, options, choice).await),
            Framework::Actix => {
                let store = options.sessions.open_store(choice).await.unwrap();
                Running::actix(listener, oauth, options, store.into())
            }
        }
    }
}

/// How a test's actix demo listens.
pub enum Listen {
    /// Plain http.
    Plain(std::net::TcpListener),
    /// https with this rustls configuration.
    Tls(std::net::TcpListener, Box<rustls::ServerConfig>),
}

/// The actix demo ([`actix_app::app`]) on a thread of its own (actix-web runs its own
/// runtime), with one worker and no signal handling: the server stops when the handle is
/// stopped or the process ends.
pub fn spawn_actix(
    listen: Listen,
    oauth: OAuth,
    options: DemoOptions,
    sessions: StoreSessions,
) -> actix_web::dev::ServerHandle {
    let (tx, rx) = std::sync::mpsc::channel();
    let app = actix_app::app(oauth, options);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let new_app = move || {
                actix_web::App::new()
                    .configure(app.clone())
                    .wrap(sessions.middleware())
            };
            // actix-web answers 408 when a request's head takes over 5 s to arrive: on two
            // busy cores, the load tests' own clients can be that slow (seen once in a CI
            // rehearsal), which is the machine's starvation, not what these tests check.
            let server = actix_web::HttpServer::new(new_app)
                .workers(1)
                .client_request_timeout(std::time::Duration::from_secs(30))
                .disable_signals();
            let server = match listen {
                Listen::Plain(listener) => server.listen(listener),
                Listen::Tls(listener, config) => server.listen_rustls_0_23(listener, *config),
            };
            let server = server.expect("listen").run();
            let _ = tx.send(server.handle());
            let _ = server.await;
        });
    });
    rx.recv().expect("the actix demo started")
}
