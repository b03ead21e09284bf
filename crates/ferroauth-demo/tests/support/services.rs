//! Session-store servers for tests: the testkit's ([`ferroauth_testkit::servers`]).

#![allow(unused_imports)]

pub use ferroauth_testkit::servers::{Postgres, Redis, free_port};
