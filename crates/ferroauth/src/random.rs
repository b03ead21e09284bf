//! Random values from the operating system's CSPRNG.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::Error;

/// One random token per entry of `sizes`: that many bytes from the OS, base64url-encoded
/// without padding. They are read in one call, because a login needs up to three (state,
/// PKCE verifier, nonce) and each call is a system call.
///
/// 32 bytes give 256 bits: far above the 128 bits RFC 6749 §10.10 and RFC 9700 ask of
/// `state`, and exactly the 43-character PKCE verifier RFC 7636 §4.1 recommends.
pub(crate) fn tokens<const N: usize>(sizes: [usize; N]) -> Result<[String; N], Error> {
    let mut buf = [0u8; 256];
    let total: usize = sizes.iter().sum();
    let buf = buf.get_mut(..total).ok_or_else(|| {
        Error::Unsupported(format!("{total} random bytes asked at once; 256 at most"))
    })?;
    getrandom::fill(buf)
        .map_err(|e| Error::Unsupported(format!("the OS random generator failed: {e}")))?;
    let mut rest: &[u8] = buf;
    Ok(sizes.map(|n| {
        let (this, after) = rest.split_at(n);
        rest = after;
        URL_SAFE_NO_PAD.encode(this)
    }))
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
        let [a] = super::tokens([32]).unwrap();
        let [b] = super::tokens([32]).unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn tokens_from_one_read_are_distinct_and_sized() {
        let [a, b, c] = super::tokens([32, 32, 24]).unwrap();
        assert_eq!((a.len(), b.len(), c.len()), (43, 43, 32));
        assert!(a != b && b != c && a != c);
        let [x] = super::tokens([0]).unwrap();
        assert_eq!(x, "");
        assert!(super::tokens([200, 100]).is_err());
    }
}
