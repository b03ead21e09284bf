//! The in-memory session store for one instance: [`MemoryStore`], ferroauth's
//! ([`ferroauth::session::memory`] says how it purges expired sessions and keeps each one
//! compactly encoded), a tower-sessions store as it is.
//!
//! ```no_run
//! # use axum::{Router, routing::get};
//! use ferroauth_axum::memory_store::MemoryStore;
//! use ferroauth_axum::sessions::{SessionConfig, SessionsExt as _};
//!
//! # fn app() -> Result<Router, ferroauth::Error> {
//! let app: Router = SessionConfig::for_public_url("https://app.example")?
//!     .apply(Router::new().route("/", get(|| async { "hi" })), MemoryStore::new());
//! # Ok(app) }
//! ```

pub use ferroauth::session::memory::MemoryStore;
