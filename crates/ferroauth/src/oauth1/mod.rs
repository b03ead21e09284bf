//! RFC 5849 (OAuth 1.0a).
