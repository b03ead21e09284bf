//! Errors as HTTP answers: [`Failure`] and [`http_status`].

use crate::Error;

/// The HTTP status for an error: [`crate::ErrorKind::http_status`] (400 bad callback, 502
/// provider failure, 504 provider timeout, 503 session store down, 500 misconfiguration),
/// except an unknown client, which is 404: its name comes from the URL (`/login/{name}`).
pub fn http_status(e: &Error) -> u16 {
    match e {
        Error::UnknownClient(_) => 404,
        _ => e.kind().http_status(),
    }
}

/// A failed request as every integration answers it: the status, the stable code
/// ([`Error::code`]) and a description for people. JSON requests get
/// `{"error": code, "error_description": description}` ([`Failure::json`]), browsers the
/// app's error page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The HTTP status.
    pub status: u16,
    /// The stable error code (`state_expired`, `no_token`, ...).
    pub code: String,
    /// What went wrong, for people.
    pub description: String,
}

impl Failure {
    /// The failure of an error.
    pub fn of(e: &Error) -> Self {
        Self::new(http_status(e), e.code(), e.to_string())
    }

    /// A failure with its own status and code.
    pub fn new(status: u16, code: &str, description: String) -> Self {
        Self {
            status,
            code: code.to_owned(),
            description,
        }
    }

    /// The failure of `POST /refresh/{name}`: a login without a refresh token and an OAuth
    /// 1.0a token are the request's fault (400), not the configuration's or the
    /// credentials'. Everything else (`no_token` among them) keeps its code and status.
    pub fn of_refresh(e: &Error) -> Self {
        match e {
            Error::NoRefreshToken { .. } => Self::new(
                400,
                "no_refresh_token",
                "the provider issued no refresh token for this login".to_owned(),
            ),
            Error::Unsupported(_) => Self::new(
                400,
                "refresh_unsupported",
                "OAuth 1.0a tokens do not expire and cannot be refreshed".to_owned(),
            ),
            _ => Self::of(e),
        }
    }

    /// The session store failed while saving the session after the handler answered:
    /// 503 `session_unavailable`, so that clients and load balancers retry.
    pub fn store_unavailable() -> Self {
        Self::of(&Error::Session(
            "the session could not be saved; try again shortly".into(),
        ))
    }

    /// Whether the server (its store, the provider, its settings) is at fault: such
    /// failures are logged.
    pub fn is_server_error(&self) -> bool {
        self.status >= 500
    }

    /// The JSON body: `{"error": code, "error_description": description}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.code, "error_description": self.description })
    }

    /// The HTML error page ([`crate::html::error_page`]).
    pub fn page(&self) -> String {
        crate::html::error_page(self.status, &self.code, &self.description)
    }

    /// Logs a server-side failure at warn level (never its secrets: errors hold none).
    pub fn log(&self) {
        if self.is_server_error() {
            tracing::warn!(code = %self.code, error = %self.description, "OAuth request failed");
        }
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        Self::of(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_statuses() {
        assert_eq!(http_status(&Error::StateExpired), 400);
        assert_eq!(http_status(&Error::Session("down".into())), 503);
        assert_eq!(http_status(&Error::InvalidIdToken("x".into())), 502);
        assert_eq!(http_status(&Error::UnknownClient("x".into())), 404);
        assert_eq!(
            Failure::of(&Error::StateReused).json()["error"],
            "state_reused"
        );
    }

    #[test]
    fn refresh_failures_of_the_request_are_400() {
        let f = Failure::of_refresh(&Error::Unsupported("oauth1".into()));
        assert_eq!((f.status, f.code.as_str()), (400, "refresh_unsupported"));
        let f = Failure::of_refresh(&Error::Session("down".into()));
        assert_eq!((f.status, f.code.as_str()), (503, "session_unavailable"));
    }
}
