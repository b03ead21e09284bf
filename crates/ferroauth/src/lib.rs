//! ferroauth: OAuth 1.0a, OAuth 2.0 and OpenID Connect login for Rust web applications.

pub mod oauth1;
pub mod oidc;
pub mod secret;

pub use secret::Secret;
