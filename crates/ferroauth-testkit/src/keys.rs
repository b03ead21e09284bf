//! Signing keys, the JWK Set and compact JWS creation.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::IdTokenAlg;
use crate::error::Error;
use crate::util::b64url;

/// One generation of keys: an RS256 and an ES256 key.
pub(crate) struct KeyGeneration {
    rsa: RsaKeyPair,
    rsa_kid: String,
    rsa_jwk: Value,
    ec: EcdsaKeyPair,
    ec_kid: String,
    ec_jwk: Value,
}

impl KeyGeneration {
    pub(crate) fn generate() -> Result<Self, Error> {
        let rsa = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| Error::Crypto("RSA key generation failed"))?;
        let public = rsa.public_key();
        let n = b64url(public.modulus().big_endian_without_leading_zero());
        let e = b64url(public.exponent().big_endian_without_leading_zero());
        // RFC 7638 thumbprint: members in lexicographic order, no whitespace.
        let rsa_kid = b64url(Sha256::digest(format!(
            r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#
        )));
        let rsa_jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": rsa_kid, "n": n, "e": e,
        });

        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| Error::Crypto("ECDSA key generation failed"))?;
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        let point = ec.public_key().as_ref();
        if point.len() != 65 || point[0] != 4 {
            return Err(Error::Crypto("unexpected EC public key encoding"));
        }
        let x = b64url(&point[1..33]);
        let y = b64url(&point[33..65]);
        let ec_kid = b64url(Sha256::digest(format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
        )));
        let ec_jwk = json!({
            "kty": "EC", "use": "sig", "alg": "ES256", "kid": ec_kid, "crv": "P-256", "x": x, "y": y,
        });
        Ok(Self {
            rsa,
            rsa_kid,
            rsa_jwk,
            ec,
            ec_kid,
            ec_jwk,
        })
    }

    pub(crate) fn kid(&self, alg: IdTokenAlg) -> &str {
        match alg {
            IdTokenAlg::RS256 => &self.rsa_kid,
            IdTokenAlg::ES256 => &self.ec_kid,
        }
    }

    /// Signs `claims` as a compact JWS.
    pub(crate) fn sign_jwt(&self, alg: IdTokenAlg, claims: &Value) -> Result<String, Error> {
        self.sign_typed(alg, "JWT", claims)
    }

    /// Signs `claims` as a compact JWS whose header names the type `typ`.
    pub(crate) fn sign_typed(
        &self,
        alg: IdTokenAlg,
        typ: &str,
        claims: &Value,
    ) -> Result<String, Error> {
        let header = json!({ "alg": alg.as_str(), "typ": typ, "kid": self.kid(alg) });
        let mut input = b64url(header.to_string());
        input.push('.');
        input.push_str(&b64url(claims.to_string()));
        let rng = SystemRandom::new();
        let signature = match alg {
            IdTokenAlg::RS256 => {
                let mut sig = vec![0u8; self.rsa.public_modulus_len()];
                self.rsa
                    .sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
                    .map_err(|_| Error::Crypto("RSA signing failed"))?;
                sig
            }
            IdTokenAlg::ES256 => self
                .ec
                .sign(&rng, input.as_bytes())
                .map_err(|_| Error::Crypto("ECDSA signing failed"))?
                .as_ref()
                .to_vec(),
        };
        input.push('.');
        input.push_str(&b64url(signature));
        Ok(input)
    }
}

/// The current key generation plus, after a rotation, the previous one.
pub(crate) struct KeyRing {
    pub(crate) current: KeyGeneration,
    pub(crate) previous: Option<KeyGeneration>,
}

impl KeyRing {
    pub(crate) fn new() -> Result<Self, Error> {
        Ok(Self {
            current: KeyGeneration::generate()?,
            previous: None,
        })
    }

    /// Replaces the current keys; the old current generation stays published
    /// until the next rotation, the one before it is dropped.
    pub(crate) fn rotate(&mut self) -> Result<(), Error> {
        let fresh = KeyGeneration::generate()?;
        self.previous = Some(std::mem::replace(&mut self.current, fresh));
        Ok(())
    }

    /// The payload (base64url) of a compact JWS that a key of this ring signed, by its
    /// header's `kid`; `None` for anything else.
    pub(crate) fn verify_id_token<'t>(&self, token: &'t str) -> Option<&'t str> {
        use aws_lc_rs::signature::UnparsedPublicKey;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256};
        use base64::Engine as _;
        let (input, signature) = token.rsplit_once('.')?;
        let (header, payload) = input.split_once('.')?;
        let decode = |part: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
        };
        let header: Value = serde_json::from_slice(&decode(header)?).ok()?;
        let kid = header["kid"].as_str()?;
        let generation = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|g| g.rsa_kid == kid || g.ec_kid == kid)?;
        let signature = decode(signature)?;
        let verified = if generation.rsa_kid == kid {
            let key = generation.rsa.public_key().as_ref();
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key)
                .verify(input.as_bytes(), &signature)
        } else {
            let key = generation.ec.public_key().as_ref();
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
                .verify(input.as_bytes(), &signature)
        };
        verified.ok().map(|()| payload)
    }

    pub(crate) fn jwks(&self) -> Value {
        let mut keys = vec![self.current.rsa_jwk.clone(), self.current.ec_jwk.clone()];
        if let Some(prev) = &self.previous {
            keys.push(prev.rsa_jwk.clone());
            keys.push(prev.ec_jwk.clone());
        }
        json!({ "keys": keys })
    }
}
