//! ferroauth: OAuth 1.0a, OAuth 2.0 and OpenID Connect login for Rust web applications.

pub mod callback;
pub mod client;
pub mod client_assertion;
pub mod error;
mod grants;
pub mod hooks;
pub mod http;
pub mod oauth1;
mod oauth1_login;
pub mod oauth2;
pub mod oidc;
pub mod pending;
mod random;
pub mod refresh;
pub mod registry;
pub mod revocation;
pub mod secret;
pub mod settings;
pub mod token;
pub mod token_store;

pub use callback::CallbackParams;
pub use client::{ApiRequest, Login, OAuthClient};
pub use client_assertion::ClientAssertionKey;
pub use error::{Error, ErrorKind, ProviderError};
pub use hooks::ComplianceHooks;
pub use pending::{MemoryPendingStore, PendingStore};
pub use registry::OAuth;
pub use revocation::Introspection;
pub use secret::Secret;
pub use settings::{ClientSettings, Settings};
pub use token::{Claims, OAuth1Token, OAuth2Token, Token};
pub use token_store::{MemoryTokenStore, TokenStore};
