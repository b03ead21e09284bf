//! The guide: how ferroauth works and how to use it, chapter by chapter.
//!
//! The API documentation says what each item does; these chapters say how the pieces fit,
//! with examples that are compiled (and most of them run) as doc tests. Each chapter is an
//! empty module whose documentation is a Markdown file beside this one
//! (`crates/ferroauth/src/guide/*.md`, readable on GitHub too).
//!
//! | chapter | what |
//! |---|---|
//! | [`concepts`] | the registry, the login, the session, tokens: the four ideas the rest builds on |
//! | [`frameworks`] | axum and actix-web: the ready-made routes, extractors and session layers, and the quick-start apps |
//! | [`settings`] | every settings key, with its type, default and meaning, and the environment overrides |
//! | [`sessions`] | the session cookie a login needs, session stores, ending sessions by user, running many instances |
//! | [`presets`] | every provider preset: endpoints, options, quirks, what can be trusted for linking accounts |
//! | [`fediverse`] | Mastodon and other fediverse servers: a login at any instance |
//! | [`modern_oauth`] | pushed and signed authorization requests, DPoP, resource indicators, `max_age`, the device flow |
//! | [`users`] | protected routes, and the app's own users across providers |
//! | [`security`] | the threat model: assets, attackers, each attack with its defence and its test |
//! | [`provider_checks`] | every check made on what a provider sends, beside the reference clients' |
//! | [`proxy`] | deploying behind a reverse proxy with https: public URL, `Secure` cookies, `X-Forwarded-*` |
//! | [`testing`] | testing your own app with `ferroauth-testkit`: a provider in a test, a scripted browser |
//! | [`observability`] | logs and metrics |
//! | [`performance`] | what a login costs, how it is measured, and every table |
//! | [`authlib`] | migrating from Authlib: each key, call and hook beside its ferroauth equivalent |

#[doc = include_str!("concepts.md")]
pub mod concepts {}

#[doc = include_str!("frameworks.md")]
pub mod frameworks {}

#[doc = include_str!("settings.md")]
pub mod settings {}

#[doc = include_str!("sessions.md")]
pub mod sessions {}

#[doc = include_str!("presets.md")]
pub mod presets {}

#[doc = include_str!("fediverse.md")]
pub mod fediverse {}

#[doc = include_str!("modern_oauth.md")]
pub mod modern_oauth {}

#[doc = include_str!("users.md")]
pub mod users {}

#[doc = include_str!("security.md")]
pub mod security {}

#[doc = include_str!("provider_checks.md")]
pub mod provider_checks {}

#[doc = include_str!("proxy.md")]
pub mod proxy {}

#[doc = include_str!("testing.md")]
pub mod testing {}

#[doc = include_str!("observability.md")]
pub mod observability {}

#[doc = include_str!("performance.md")]
pub mod performance {}

#[doc = include_str!("authlib.md")]
pub mod authlib {}
