//! OAuth 2.0 (RFC 6749, RFC 7636): PKCE, client authentication, token responses.

pub mod client_auth;
pub mod pkce;
pub mod token_response;
