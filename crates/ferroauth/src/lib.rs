//! ferroauth: OAuth 1.0a, OAuth 2.0 and OpenID Connect login for Rust web applications.
//!
//! ```
//! use ferroauth::{CallbackParams, OAuth};
//! use ferroauth::session::pending::MemoryPendingStore;
//! use ferroauth::settings::Settings;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ferroauth::Error> {
//! let settings = Settings::from_toml_str(r#"
//!     [clients.example]
//!     client_id = "my-app"
//!     client_secret = "from the environment in real life"
//!     authorize_url = "https://provider.example/authorize"
//!     access_token_url = "https://provider.example/token"
//!     client_kwargs = { scope = "read" }
//! "#)?;
//! let oauth = OAuth::from_settings(&settings)?;
//! let client = oauth.client("example")?;
//!
//! // One session's pending logins; a web app uses its session instead.
//! let session = MemoryPendingStore::new();
//! let url = client.authorize_redirect(&session, "https://app.example/auth/example").await?;
//! assert!(url.as_str().starts_with("https://provider.example/authorize?response_type=code"));
//! assert!(url.query_pairs().any(|(k, v)| k == "code_challenge_method" && v == "S256"));
//!
//! // The callback: a forged or replayed state is refused before any provider call.
//! let forged = CallbackParams::parse("code=abc&state=not-ours")?;
//! let error = client.authorize_access_token(&session, &forged).await.unwrap_err();
//! assert_eq!(error.code(), "state_unknown");
//! # Ok(()) }
//! ```
//!
//! A registry of named providers read from the app's settings ([`OAuth`]);
//! `authorize_redirect` keeps the pending login (state, PKCE verifier, nonce, or the OAuth
//! 1.0a request token) in the session and returns the provider URL;
//! `authorize_access_token` finishes the login on the callback; API calls go out with the
//! stored token, refreshed when it expires. This crate has no web-framework types:
//! `ferroauth-axum` adapts it to axum and tower-sessions, `ferroauth-actix` to actix-web and
//! actix-session, and any other framework can do the same by implementing one trait,
//! [`session::Session`], over its session (entries of JSON text by key, a new id, clear);
//! the pending logins ([`session::SessionPending`], a [`session::pending::PendingStore`])
//! and the tokens ([`session::SessionTokens`], a [`session::tokens::TokenStore`]) are built
//! on it.
//!
//! **The [guide]** explains it chapter by chapter: [concepts](guide::concepts),
//! [axum and actix-web](guide::frameworks), [every settings key](guide::settings),
//! [sessions and stores](guide::sessions), [provider presets](guide::presets),
//! [the security model](guide::security), [deploying behind a proxy](guide::proxy),
//! [testing your app](guide::testing), [performance](guide::performance) and
//! [migrating from Authlib](guide::authlib).
//!
//! The layout follows what things are, in layers, lowest first: a module imports only from
//! its own row or the rows above it, and no two modules import each other
//! (`tests/layering.rs` reads the imports and checks it; the one circle left, settings and
//! presets, is named there until it goes).
//!
//! | layer | modules | hold |
//! |---|---|---|
//! | values | [`Secret`], [`Token`], [`Login`], [`html`], [`telemetry`] | what knows no protocol |
//! | OAuth 1.0a | [`proto::oauth1`] | RFC 5849, with its own error type |
//! | plumbing | [`Error`], [`Profile`], [`http`], [`cookies`], [`hooks`], [`form_post`], [`CallbackParams`] | typed errors; the one pooled HTTP client (timeouts, size cap, no redirects); cookie names and the `__Host-` rules; compliance hooks for providers that bend the rules; `response_mode=form_post` callbacks |
//! | protocols | [`proto::oauth2`], [`proto::jose`], [`proto::oidc`] | RFC 6749/7636; JWS, JWK, client assertions, DPoP; discovery and ID tokens. Like OAuth 1.0a, pure: they import nothing from the client, session, settings, presets, registry or web modules and take what they need as parameters |
//! | configuration | [`settings`], [`presets`] | Authlib key names, read from TOML and the environment; provider presets (GitHub, Google, Apple, Microsoft, ... in three lines of settings) |
//! | session | [`session`] | what a login keeps in a browser's session: the [`session::Session`] trait, pending logins, tokens, accounts, sealed cookies |
//! | client | [`OAuthClient`], [`OAuth`] | one registered client and its operations (login, userinfo, API calls, refresh, grants, revocation), its internals private to it; the registry of clients |
//! | web | [`web`] | what every framework integration does alike: the routes' work, errors as statuses |
//! | documentation | [`guide`] | no code: the guide's chapters |
//!
//! Each public type has one path: a public module's types are named through it
//! (`ferroauth::settings::Settings`, `ferroauth::session::pending::PendingStore`); the
//! crate root names those of the private modules (`ferroauth::OAuthClient`,
//! `ferroauth::Error`).

// Every public item documented: an undocumented one fails the build, not only CI.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod callback;
mod client;
pub mod cookies;
mod error;
pub mod form_post;
pub mod guide;
pub mod hooks;
pub mod html;
pub mod http;
pub mod presets;
mod profile;
pub mod proto;
mod random;
#[cfg(feature = "redis")]
mod redis_script;
mod registry;
mod secret;
pub mod session;
pub mod settings;
pub mod telemetry;
mod token;
pub mod users;
pub mod web;

pub use callback::CallbackParams;
pub use callback::{MAX_PARAMS, MAX_VALUE_LEN};
pub use client::registration;
pub use client::{ApiRequest, DeviceAuthorization, DevicePoll, Introspection, OAuthClient};
pub use error::{Error, ErrorKind, HttpFailure, ProviderError};
pub use profile::Profile;
pub use registry::OAuth;
pub use secret::Secret;
pub use token::{Claims, Login, OAuth1Token, OAuth2Token, Token};
