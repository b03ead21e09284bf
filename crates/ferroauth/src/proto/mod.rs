//! The protocols, as pure building blocks: they import nothing from the client, session,
//! settings, presets or web modules (`tests/layering.rs` checks it).
//!
//! | module | holds |
//! |---|---|
//! | [`oauth1`] | OAuth 1.0a (RFC 5849): encoding, base strings, signatures |
//! | [`oauth2`] | OAuth 2.0 (RFC 6749/7636): client authentication, PKCE, token responses |
//! | [`oidc`] | OpenID Connect: discovery metadata, ID-token validation |
//! | [`jose`] | JWS and JWK (RFC 7515/7517), client assertions (RFC 7523), DPoP (RFC 9449) |

pub mod jose;
pub mod oauth1;
pub mod oauth2;
pub mod oidc;
