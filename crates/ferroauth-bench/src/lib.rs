//! The login-flow load benchmark: a stub provider (ferroauth-testkit in fast, auto-approve
//! mode), a driver that performs complete logins against `ferroauth-demo` through the
//! demo's HTTP contract, and readings of the demo process's CPU time and memory from
//! `/proc`.
//!
//! A login is three requests, the driver playing the browser and the provider's redirect:
//!
//! 1. `GET /login/{name}` on the demo: a 302 to the provider, and the session cookie;
//! 2. `GET` the provider's authorize URL from that `Location`: in auto-approve mode a 302
//!    back to the demo's callback;
//! 3. `GET /auth/{name}?code=...&state=...` (or `oauth_token` and `oauth_verifier`) on the
//!    demo with the session cookie and `Accept: application/json`: the demo exchanges the
//!    code, validates the ID token, fetches userinfo and answers 200 with the user.
//!
//! [`floor`] is the same routes without ferroauth: what the messages alone cost;
//! [`compare`] runs the demo and the floor in alternating rounds.
//!
//! The binary `ferroauth-loadgen` runs the provider in its own process and the demo as a
//! child process, so that the demo's `/proc` figures are the app's alone.

pub mod compare;
pub mod driver;
pub mod floor;
pub mod procstat;
pub mod provider;
pub mod report;

pub use driver::{Driver, Flow, PhaseResult};
pub use provider::{BenchProvider, Counters};
