//! OpenID Connect: discovery, JWKS, ID token validation.
