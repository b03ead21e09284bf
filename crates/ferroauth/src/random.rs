//! Random values from the operating system's CSPRNG.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Error;

/// `bytes` random bytes from the OS, base64url-encoded without padding.
///
/// 32 bytes give 256 bits: far above the 128 bits RFC 6749 §10.10 and RFC 9700 ask of
/// `state`, and exactly the 43-character PKCE verifier RFC 7636 §4.1 recommends.
pub(crate) fn token(bytes: usize) -> Result<String, Error> {
    let mut buf = [0u8; 64];
    let buf = &mut buf[..bytes.min(64)];
    getrandom::fill(buf)
        .map_err(|e| Error::Unsupported(format!("the OS random generator failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The current time in Unix seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_fresh_and_long_enough() {
        let a = super::token(32).unwrap();
        let b = super::token(32).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
