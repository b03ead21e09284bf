//! The error type of the OAuth 1.0a module.

/// Why an OAuth 1.0a operation failed.
///
/// Messages and `Debug` output never carry a secret: URLs, keys, token values and raw
/// response bodies are left out on purpose, so an error can be logged or shown as-is.
/// Match on [`Error::code`] rather than on message text; the codes are stable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request URL could not be used to build a signature base string.
    #[error("invalid request URL: {reason}")]
    InvalidUrl {
        /// What was wrong, in fixed words (the URL itself is not repeated).
        reason: &'static str,
    },

    /// The HTTP method is empty or not an HTTP token.
    #[error("invalid HTTP method")]
    InvalidMethod,

    /// The signature method name is not one this build can produce.
    #[error("unsupported OAuth 1.0a signature method {method:?}")]
    UnsupportedSignatureMethod {
        /// The name as given (cut to 32 characters).
        method: String,
    },

    /// An extra protocol parameter is not named `oauth_*`, or is one the signer sets
    /// itself (`oauth_nonce`, `oauth_signature`, …).
    #[error("protocol parameter {name:?} is not allowed here")]
    InvalidProtocolParameter {
        /// The name as given (cut to 32 characters).
        name: String,
    },

    /// An RSA signature method was chosen but the consumer has no RSA private key.
    #[error("an RSA signature method needs an RSA private key on the consumer")]
    MissingRsaKey,

    /// The RSA private key could not be read.
    #[error("invalid RSA private key: {reason}")]
    InvalidRsaKey {
        /// What was wrong, in fixed words.
        reason: &'static str,
    },

    /// The signing primitive refused the input (for example, an RSA key too small for
    /// the digest).
    #[error("signing failed")]
    SigningFailed,

    /// The operating system's random number generator could not supply a nonce.
    #[error("the operating system random number generator failed")]
    Rng,

    /// The system clock reads earlier than 1970, so no `oauth_timestamp` can be made.
    #[error("the system clock is set before the Unix epoch")]
    Clock,

    /// A credentials response body could not be parsed at all.
    #[error("invalid credentials response: {reason}")]
    InvalidCredentialsResponse {
        /// What was wrong, in fixed words.
        reason: &'static str,
    },

    /// A credentials response lacked `oauth_token` or `oauth_token_secret`.
    #[error("credentials response is missing `{field}`")]
    MissingCredentialsField {
        /// The name of the absent field.
        field: &'static str,
    },

    /// A temporary-credentials response did not carry `oauth_callback_confirmed=true`.
    ///
    /// RFC 5849 §2.1 makes the field mandatory; a provider that omits it is probably an
    /// OAuth 1.0 (not 1.0a) server, open to session fixation, and should not be used.
    #[error("provider did not confirm the callback (oauth_callback_confirmed is not true)")]
    CallbackNotConfirmed,

    /// The provider answered with an error.
    #[error(
        "provider error (HTTP {status}): {}{}",
        code.as_deref().unwrap_or("unknown"),
        description.as_deref().map(|d| format!(": {d}")).unwrap_or_default()
    )]
    Provider {
        /// The HTTP status the provider answered with.
        status: u16,
        /// The provider's error code (`error`, `oauth_problem`, or a JSON `code`).
        code: Option<String>,
        /// The provider's explanation, cut to 256 characters.
        description: Option<String>,
    },
}

impl Error {
    /// A stable snake_case identifier for the error, for metrics, logs and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::InvalidMethod => "invalid_http_method",
            Error::UnsupportedSignatureMethod { .. } => "unsupported_signature_method",
            Error::InvalidProtocolParameter { .. } => "invalid_protocol_parameter",
            Error::MissingRsaKey => "missing_rsa_key",
            Error::InvalidRsaKey { .. } => "invalid_rsa_key",
            Error::SigningFailed => "signing_failed",
            Error::Rng => "rng_unavailable",
            Error::Clock => "clock_before_epoch",
            Error::InvalidCredentialsResponse { .. } => "invalid_credentials_response",
            Error::MissingCredentialsField { .. } => "missing_credentials_field",
            Error::CallbackNotConfirmed => "callback_not_confirmed",
            Error::Provider { .. } => "provider_error",
        }
    }
}

/// Cuts provider- or caller-supplied text to at most `max` characters.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Shorthand for results of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(
            Error::InvalidRsaKey { reason: "x" }.code(),
            "invalid_rsa_key"
        );
        assert_eq!(
            Error::UnsupportedSignatureMethod { method: "x".into() }.code(),
            "unsupported_signature_method"
        );
        assert_eq!(
            Error::InvalidCredentialsResponse { reason: "x" }.code(),
            "invalid_credentials_response"
        );
        assert_eq!(Error::CallbackNotConfirmed.code(), "callback_not_confirmed");
        assert_eq!(
            Error::MissingCredentialsField {
                field: "oauth_token"
            }
            .code(),
            "missing_credentials_field"
        );
    }

    #[test]
    fn provider_message() {
        let e = Error::Provider {
            status: 401,
            code: Some("signature_invalid".into()),
            description: Some("bad sig".into()),
        };
        assert_eq!(
            e.to_string(),
            "provider error (HTTP 401): signature_invalid: bad sig"
        );
        let e = Error::Provider {
            status: 500,
            code: None,
            description: None,
        };
        assert_eq!(e.to_string(), "provider error (HTTP 500): unknown");
    }

    #[test]
    fn truncate_counts_chars() {
        assert_eq!(truncate("héllo", 3), "hél…");
        assert_eq!(truncate("hé", 3), "hé");
    }
}
