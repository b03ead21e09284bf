//! OpenID Connect: discovery, JWKS, ID token validation.

pub mod id_token;
pub mod jwk;
pub mod jws;
