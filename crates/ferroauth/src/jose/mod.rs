//! JOSE: JSON Web Signatures (RFC 7515) and Keys (RFC 7517), shared by what verifies
//! (ID tokens, [`crate::oidc`]) and what signs (client assertions, RFC 7523).

pub mod client_assertion;
pub mod jwk;
pub mod jws;
