use std::io;

/// Errors from configuring, starting or operating a [`TestProvider`](crate::TestProvider).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The builder configuration is inconsistent (duplicate ids, missing
    /// secret, unparsable redirect URI or issuer, ...).
    #[error("invalid provider configuration: {0}")]
    Config(String),
    /// Binding or querying the listening socket failed.
    #[error("could not bind the provider socket: {0}")]
    Io(#[from] io::Error),
    /// Key generation or signing failed.
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}
