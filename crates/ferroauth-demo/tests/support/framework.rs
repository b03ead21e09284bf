//! The web framework a test runs the demo on: one test body, run once per framework
//! ([`on_both!`](crate::on_both)).

use ferroauth::OAuth;
use ferroauth::session::sealed::CookieKeys;
use ferroauth_axum::stores::StoreChoice;
use ferroauth_demo::DemoOptions;
use ferroauth_demo::actix_app;

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

impl Running {
    /// An axum router, served.
    pub fn axum(listener: tokio::net::TcpListener, app: axum::Router) -> Running {
        Running::Axum(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }))
    }

    /// The actix demo, served on its own thread.
    pub fn actix(
        listener: tokio::net::TcpListener,
        oauth: OAuth,
        options: DemoOptions,
        store: actix_app::Store,
    ) -> Running {
        let listener = listener.into_std().unwrap();
        Running::Actix(spawn_actix(
            actix_app::Listen::Plain(listener),
            oauth,
            options,
            store,
            shared_actix_key(),
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
            Framework::Axum => Running::axum(
                listener,
                ferroauth_demo::router_with_store(
                    oauth,
                    options,
                    ferroauth::session::memory::MemoryStore::new(),
                ),
            ),
            Framework::Actix => {
                let store = actix_app::Store::Memory(Default::default());
                Running::actix(listener, oauth, options, store)
            }
        }
    }

    /// The demo with the sessions `choice` names (`cookie` with `keys`; a server-side
    /// store seals the tokens under `keys`, as the demo's `--cookie-keys` does).
    pub async fn with_store(
        framework: Framework,
        listener: tokio::net::TcpListener,
        oauth: OAuth,
        mut options: DemoOptions,
        choice: &StoreChoice,
        keys: Option<&str>,
    ) -> Running {
        let keys = options.use_keys(choice, keys.map(|k| CookieKeys::parse(k).unwrap()));
        match framework {
            Framework::Axum => {
                let app = ferroauth_demo::router_for(oauth, options, choice, keys)
                    .await
                    .unwrap();
                Running::axum(listener, app)
            }
            Framework::Actix => {
                let store = actix_app::Store::open(choice, keys).await.unwrap();
                Running::actix(listener, oauth, options, store)
            }
        }
    }
}

/// The actix demo ([`actix_app::start`]) on a thread of its own (actix-web runs its own runtime), with one worker and
/// no signal handling, for tests: the server stops when the handle is stopped or the
/// process ends.
pub fn spawn_actix(
    listen: actix_app::Listen,
    oauth: OAuth,
    options: DemoOptions,
    store: actix_app::Store,
    key: actix_web::cookie::Key,
) -> actix_web::dev::ServerHandle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let serving = actix_app::Serving {
                workers: Some(1),
                signals: false,
            };
            let server =
                actix_app::start(listen, oauth, options, store, key, serving).expect("listen");
            let _ = tx.send(server.handle());
            let _ = server.await;
        });
    });
    rx.recv().expect("the actix demo started")
}
