//! The consumer's RSA private key for `RSA-SHA1` / `RSA-SHA256` (crate feature `rsa`).
//!
//! # Security: RUSTSEC-2023-0071 (Marvin attack)
//!
//! This feature uses the pure-Rust `rsa` crate. Advisory RUSTSEC-2023-0071 reports that
//! the crate's private-key operation leaks timing information; the published attack
//! (Marvin) uses that leak against *decryption*, letting a network attacker who can
//! submit many ciphertexts and time the answers decrypt or forge with the key. This
//! feature never decrypts, but PKCS#1 v1.5 *signing* runs the same private-key
//! exponentiation, inside your server process, on base strings that partly come from
//! request data. What that means in practice:
//!
//! * `rsa` 0.10 moved to constant-time big-integer arithmetic and blinds the private
//!   operation, which is the mitigation the advisory asked for, but the crate's own
//!   documentation still calls its PKCS#1 v1.5 code not fully hardened, and
//!   `cargo audit` may keep reporting the advisory for this dependency. Treat the risk
//!   as reduced, not gone.
//! * An attacker would need to trigger many signatures and measure their duration
//!   precisely (co-located on the same host, or over a very quiet network). Do not
//!   expose an endpoint that signs attacker-chosen data on demand and answers quickly.
//! * Prefer `HMAC-SHA1`/`HMAC-SHA256` when the provider offers them; enable `rsa` only for
//!   providers that require RSA, and use a key dedicated to that one OAuth consumer so a
//!   leak cannot spread to TLS or other uses.

use std::fmt;
use std::sync::Arc;

use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};

use super::error::{Error, Result};

/// An RSA private key for OAuth 1.0a RSA signatures. See the module documentation for
/// the RUSTSEC-2023-0071 note that applies to it.
///
/// Cheap to clone (shared), and its `Debug` output shows no key material.
#[derive(Clone)]
pub struct RsaKey(Arc<rsa::PrivateKey>);

impl RsaKey {
    /// Reads a PEM private key: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) or unencrypted
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`), the two forms `openssl` writes.
    ///
    /// # Errors
    /// [`Error::InvalidRsaKey`] for any other label (including encrypted PKCS#8), a
    /// malformed body, or a PKCS#8 key that is not RSA. The reason never quotes the input.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let pem = pem.trim();
        let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            rsa::PrivateKey::from_pkcs1_pem(pem).map_err(|_| Error::InvalidRsaKey {
                reason: "malformed PKCS#1 RSA private key",
            })?
        } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            rsa::PrivateKey::from_pkcs8_pem(pem).map_err(|_| Error::InvalidRsaKey {
                reason: "malformed PKCS#8 private key, or not an RSA key",
            })?
        } else if pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(Error::InvalidRsaKey {
                reason: "encrypted private keys are not supported; decrypt it first",
            });
        } else {
            return Err(Error::InvalidRsaKey {
                reason: "expected a PEM \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"",
            });
        };
        Ok(Self(Arc::new(key)))
    }

    /// The public half as a PEM `PUBLIC KEY` (SPKI), the form providers ask consumers
    /// to register.
    ///
    /// # Errors
    /// [`Error::InvalidRsaKey`] if the key cannot be encoded (not expected for a key
    /// that was read successfully).
    pub fn public_key_pem(&self) -> Result<String> {
        self.0
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| Error::InvalidRsaKey {
                reason: "cannot encode the public key",
            })
    }

    /// RSASSA-PKCS1-v1_5 over SHA-1 or SHA-256 (§3.4.3). Deterministic; the `rsa`
    /// crate blinds the private operation with the OS RNG.
    pub(crate) fn sign(&self, sha256: bool, message: &[u8]) -> Result<Vec<u8>> {
        let sig = if sha256 {
            self.0.pkcs1v15_sign::<sha2::Sha256>(message)
        } else {
            self.0.pkcs1v15_sign::<sha1::Sha1>(message)
        };
        sig.map_err(|_| Error::SigningFailed)
    }
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaKey(…)")
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use rsa::pkcs8::DecodePublicKey;

    use super::super::signature::{Consumer, SignatureMethod, sign_base_string};
    use super::*;

    const PKCS1: &str = include_str!("testdata/rsa_pkcs1.pem");
    const PKCS8: &str = include_str!("testdata/rsa_pkcs8.pem");
    const PUBLIC: &str = include_str!("testdata/rsa_public.pem");

    fn photos_base(method: &str) -> String {
        format!(
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26\
             oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26\
             oauth_signature_method%3D{method}%26oauth_timestamp%3D137131202%26\
             oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal"
        )
    }

    // Known answers from `openssl dgst -sha1 -sign testdata/rsa_pkcs1.pem base | base64 -w0`
    // (and `-sha256`), where `base` is `photos_base("RSA-SHA1")` / `("RSA-SHA256")`.
    const OPENSSL_RSA_SHA1: &str = "pI5YjS6muQSZu2BPWCRy5b2hH67mI68CimopBfja7tBB55VGFWjb4skSMOycKlcYYmDYEIbki+NJo8SQ2COAuymw449AxLVChOpIZHoU+IBlswKXZVc+Tljv4la/b1cirDgoAHl5ZKx78smKgRrdihZjYDyuxS4nz6LCET2DqO0h0N1hhu7qpVCdGPIdnTzzUZxM5DvmDxklVVeLqF5+hvDTHXTPXz2VlZnJALw8h7Yy972Rr6Y6Po1THISM+7ke8gck5+T0RUsB1az7RUReLltcwpk8ViJGSZQ175lcrmPILlGdcu0GRmbuYb6pTPS49yizLN8lPXoyBnhJD2rv6w==";
    const OPENSSL_RSA_SHA256: &str = "a1pZ5i82DSaBZVDTUC+FYHHXJQ3sCoOvl0dYOZXczW8k8UCFg85OMmbNpRqEZfUelc76dCvjswDpRrqd4rfnzV47O00wsH+CM04y8wrGrmTHYvOn8PQGIo0NnCNk4DvbLdfnkKzdyU9hniOcE2TMf5xV+BAN9ts32/IVtSzY+bEBjJo6xLg0cNeyCv4qy75VAYIwTP/Klm2Mh4csU4QB+4X2zYED/A11oESzoBvit1C7HupkQn7BDa2YpYELX3OCRKwEZ7vcw+0/ssGriHXPbdqMOLMaJljqH6GcgeKre4j/E+tROBmRk88PvoSKOqBc/zyt6B5rmbQx7KGogRmdtA==";

    fn consumer(pem: &str) -> Consumer {
        let key = RsaKey::from_pem(pem).expect("test key parses");
        Consumer::with_rsa_key("dpf43f3p2l4k3l03", key)
    }

    #[test]
    fn rsa_sha1_matches_openssl_and_verifies() {
        let base = photos_base("RSA-SHA1");
        for pem in [PKCS1, PKCS8] {
            let sig = sign_base_string(SignatureMethod::RsaSha1, &base, &consumer(pem), None)
                .expect("signs");
            assert_eq!(sig, OPENSSL_RSA_SHA1);
        }
        let public = rsa::PublicKey::from_public_key_pem(PUBLIC).expect("public key");
        let raw = BASE64.decode(OPENSSL_RSA_SHA1).expect("base64");
        assert!(
            public
                .pkcs1v15_verify::<sha1::Sha1>(base.as_bytes(), &raw)
                .is_ok()
        );
        assert!(
            public
                .pkcs1v15_verify::<sha1::Sha1>(b"tampered", &raw)
                .is_err()
        );
    }

    #[test]
    fn rsa_sha256_matches_openssl_and_verifies() {
        let base = photos_base("RSA-SHA256");
        let sig = sign_base_string(SignatureMethod::RsaSha256, &base, &consumer(PKCS8), None)
            .expect("signs");
        assert_eq!(sig, OPENSSL_RSA_SHA256);
        let public = rsa::PublicKey::from_public_key_pem(PUBLIC).expect("public key");
        let raw = BASE64.decode(&sig).expect("base64");
        assert!(
            public
                .pkcs1v15_verify::<sha2::Sha256>(base.as_bytes(), &raw)
                .is_ok()
        );
    }

    #[test]
    fn public_key_pem_round_trips() {
        let key = RsaKey::from_pem(PKCS1).expect("parses");
        assert_eq!(
            key.public_key_pem().ok().as_deref().map(str::trim),
            Some(PUBLIC.trim())
        );
    }

    #[test]
    fn bad_pem_is_a_typed_error() {
        let bad_body = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let bad_pkcs8 = "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n";
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        for pem in ["", "hello", PUBLIC, bad_body, bad_pkcs8, encrypted] {
            let e = RsaKey::from_pem(pem).err();
            assert_eq!(
                e.as_ref().map(Error::code),
                Some("invalid_rsa_key"),
                "{pem}"
            );
            // The message never echoes the input.
            let msg = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(!msg.contains("AAAA") && !msg.contains("base64!"));
        }
    }

    #[test]
    fn debug_hides_key() {
        let key = RsaKey::from_pem(PKCS1).expect("parses");
        assert_eq!(format!("{key:?}"), "RsaKey(…)");
        let dbg = format!("{:?}", Consumer::with_rsa_key("ck", key));
        assert!(dbg.contains("RsaKey(…)"));
    }
}
