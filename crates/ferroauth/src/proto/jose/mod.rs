//! JOSE: JSON Web Signatures (RFC 7515) and Keys (RFC 7517), shared by what verifies
//! (ID tokens, [`crate::proto::oidc`]) and what signs (client assertions, RFC 7523; DPoP
//! proofs, RFC 9449).

pub mod client_assertion;
pub mod dpop;
pub mod jwk;
pub mod jws;
