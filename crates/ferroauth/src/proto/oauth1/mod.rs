//! OAuth 1.0a (RFC 5849): request signing and credential parsing.
//!
//! This module is pure: it builds the strings a request must carry and reads the
//! strings a provider answers with, and leaves sending to the caller's HTTP client.
//!
//! * [`percent_encode`], [`form_decode`], [`parse_form`]: the exact percent-encoding of
//!   §3.6 and form decoding.
//! * [`signature_base_string`]: the signature base string of §3.4.1.
//! * [`SignatureMethod`], [`Consumer`]: the signature methods and the consumer's keys.
//! * [`RequestSigner`]: signing a request and placing its parameters.
//! * [`Credentials`], [`provider_error`]: reading temporary and token credentials, and
//!   provider errors.
//!
//! The RSA methods need the crate feature `rsa`; read the RUSTSEC-2023-0071 note on
//! `RsaKey` (in this module when the feature is on) before enabling it.

#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod base_string;
mod credentials;
mod encode;
mod error;
#[cfg(test)]
mod proptests;
mod request;
#[cfg(feature = "rsa")]
mod rsa_key;
mod signature;

pub use base_string::{base_string_uri, normalize_parameters, signature_base_string};
pub use credentials::{Credentials, provider_error};
pub(crate) use encode::write_u64;
pub use encode::{
    FormPairs, RFC5849, form_decode, parse_form, percent_encode, percent_encode_into,
};
pub use error::{Error, Result};
pub use request::{Placement, RequestSigner, SignedRequest};
#[cfg(feature = "rsa")]
pub use rsa_key::RsaKey;
pub use signature::{Consumer, SignatureMethod, sign_base_string};
