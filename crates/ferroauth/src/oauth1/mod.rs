//! RFC 5849 (OAuth 1.0a).

/// OAuth 1.0a errors (being written).
#[derive(Debug, thiserror::Error)]
#[error("oauth1")]
pub struct Error;

impl Error {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        "oauth1_error"
    }
}
